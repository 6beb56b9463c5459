/**
 * The hyveOS SDK bridge: the `script.DHT` and `script.Discovery` services of the SDKs' wire protocol, implemented on
 * the contract's handlers, so the SDK scripts of the seed (Python, Rust, TypeScript) work against swarm-inspector.
 * Transport-neutral: the same routes serve native gRPC (HTTP/2, Unix socket) and gRPC-web / Connect (local API port).
 */
import { create } from '@bufbuild/protobuf'
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect'
import type { CallOptions, PeerApiHandlers } from '../../shared/api-contract.ts'
import {
  DHT,
  Discovery,
  EmptySchema,
  NeighbourEventSchema,
  OptionalDataSchema,
  PeerSchema,
  type DHTKey,
  type NeighbourEvent
} from '../../shared/bridge/gen/script_pb.ts'

/** Each failure's gRPC status, by our error names. */
const CODE_FOR_ERROR: Record<string, Code> = {
  InvalidInputError: Code.InvalidArgument,
  NotFoundError: Code.NotFound,
  ForbiddenError: Code.PermissionDenied,
  UnavailableError: Code.Unavailable,
  LookupError: Code.Unavailable,
  AbortError: Code.Canceled
}

export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err
  const name = (err as Error)?.name ?? ''
  return new ConnectError((err as Error)?.message ?? String(err), CODE_FOR_ERROR[name] ?? Code.Internal)
}

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    throw toConnectError(err)
  }
}

/** proto2 `required` fields are checked by the decoder; a missing nested message arrives as undefined here. */
function topicKey(key: DHTKey): { topic: string; key: Uint8Array } {
  if (key.topic == null) throw new ConnectError('key.topic is required', Code.InvalidArgument)
  return { topic: key.topic.topic, key: key.key }
}

export interface BridgeActivity {
  /** Streams (getProviders, subscribeEvents) currently open through the bridge. */
  openStreams: number
  calls: number
}

export function bridgeRoutes(
  handlers: PeerApiHandlers,
  activity: BridgeActivity = { openStreams: 0, calls: 0 }
) {
  const opts = (signal: AbortSignal): CallOptions => ({ signal })
  return (router: ConnectRouter): void => {
    router.service(DHT, {
      putRecord: (req, ctx) =>
        guarded(async () => {
          activity.calls++
          if (req.key == null || req.value == null)
            throw new ConnectError('key and value are required', Code.InvalidArgument)
          await handlers.putRecord({ ...topicKey(req.key), value: req.value.data }, opts(ctx.signal))
          return create(EmptySchema)
        }),
      getRecord: (req, ctx) =>
        guarded(async () => {
          activity.calls++
          const { record } = await handlers.getRecord(topicKey(req), opts(ctx.signal))
          return create(OptionalDataSchema, record != null ? { data: { data: record.value } } : {})
        }),
      removeRecord: (req, ctx) =>
        guarded(async () => {
          activity.calls++
          await handlers.removeRecord(topicKey(req), opts(ctx.signal))
          return create(EmptySchema)
        }),
      provide: (req, ctx) =>
        guarded(async () => {
          activity.calls++
          await handlers.provide(topicKey(req), opts(ctx.signal))
          return create(EmptySchema)
        }),
      stopProviding: (req, ctx) =>
        guarded(async () => {
          activity.calls++
          await handlers.stopProviding(topicKey(req), opts(ctx.signal))
          return create(EmptySchema)
        }),
      async *getProviders(req, ctx) {
        activity.calls++
        activity.openStreams++
        try {
          for await (const provider of handlers.getProviders(topicKey(req), opts(ctx.signal))) {
            yield create(PeerSchema, { peerId: provider.peerId })
          }
        } catch (err) {
          throw toConnectError(err)
        } finally {
          activity.openStreams--
        }
      }
    })
    router.service(Discovery, {
      getOwnId: (_req, ctx) =>
        guarded(async () => {
          activity.calls++
          return create(PeerSchema, { peerId: await handlers.ownId({}, opts(ctx.signal)) })
        }),
      async *subscribeEvents(_req, ctx) {
        activity.calls++
        activity.openStreams++
        try {
          yield* neighbourEvents(handlers, ctx.signal)
        } catch (err) {
          throw toConnectError(err)
        } finally {
          activity.openStreams--
        }
      }
    })
  }
}

/**
 * Neighbours are the directly connected peers: first `init` with all of them, then `discovered` when a peer's first
 * connection opens and `lost` when its last one closes.
 */
async function* neighbourEvents(
  handlers: PeerApiHandlers,
  signal: AbortSignal
): AsyncGenerator<NeighbourEvent> {
  const events = handlers.events({}, { signal })[Symbol.asyncIterator]()
  const first = events.next() // subscribe before reading the current neighbours, so no change is missed
  first.catch(() => {})
  const open = new Map<string, number>()
  for (const c of await handlers.connections({}, { signal }))
    open.set(c.peerId, (open.get(c.peerId) ?? 0) + 1)
  yield create(NeighbourEventSchema, {
    event: { case: 'init', value: { peers: [...open.keys()].map((peerId) => ({ peerId })) } }
  })
  for (let next = await first; !next.done; next = await events.next()) {
    const event = next.value
    if (event.type === 'connection:open') {
      const count = open.get(event.peerId) ?? 0
      open.set(event.peerId, count + 1)
      if (count === 0)
        yield create(NeighbourEventSchema, { event: { case: 'discovered', value: { peerId: event.peerId } } })
    } else if (event.type === 'connection:close') {
      const count = (open.get(event.peerId) ?? 1) - 1
      if (count <= 0) {
        open.delete(event.peerId)
        yield create(NeighbourEventSchema, { event: { case: 'lost', value: { peerId: event.peerId } } })
      } else open.set(event.peerId, count)
    } else if (event.type === 'node:started') {
      // The peer restarted (settings changed): every neighbour was lost with it.
      for (const peerId of open.keys())
        yield create(NeighbourEventSchema, { event: { case: 'lost', value: { peerId } } })
      open.clear()
    }
  }
}
