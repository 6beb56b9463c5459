/**
 * Records every DHT query this node runs as a trace: each peer asked, in order, its XOR distance to the target, its
 * answer or error and the round-trip time; and reports steps live on the event stream.
 */
import { randomUUID } from 'node:crypto'
import type { QueryEvent } from '@libp2p/kad-dht'
import type { PeerEvent } from '../../shared/events.ts'
import { log2Distance, xorDistanceHex } from '../../shared/kademlia.ts'
import type { QueryKind, QueryStep, QueryTrace } from '../../shared/views.ts'
import { toHex } from '../../shared/bytes.ts'
import { kadIdOfPeer } from './kad-id.ts'

export class QueryLog {
  private readonly traces: QueryTrace[] = []

  constructor(
    private readonly emit: (event: PeerEvent) => void,
    private readonly keep = 200
  ) {}

  start(kind: QueryKind, target: Uint8Array, topic: string | null, key: Uint8Array | null): QueryRecorder {
    const trace: QueryTrace = {
      id: randomUUID(),
      kind,
      topic,
      key,
      target: toHex(target),
      startedAt: Date.now(),
      durationMs: null,
      status: 'running',
      peersAsked: 0,
      result: null,
      steps: []
    }
    this.traces.push(trace)
    if (this.traces.length > this.keep) this.traces.shift()
    this.emit({ type: 'query:start', query: summary(trace), at: trace.startedAt })
    return new QueryRecorder(trace, target, this.emit)
  }

  /** One trace as it stands (not a copy): for callers that read a query they just ran. */
  get(id: string): QueryTrace | undefined {
    return this.traces.find((t) => t.id === id)
  }

  /** The most recent trace of a kind. */
  latest(kind: QueryKind): QueryTrace | undefined {
    return this.traces.findLast((t) => t.kind === kind)
  }

  list(): QueryTrace[] {
    return this.traces.map((t) => ({ ...t, steps: [...t.steps] }))
  }
}

const summary = ({ steps: _steps, ...rest }: QueryTrace): Omit<QueryTrace, 'steps'> => ({ ...rest })

export class QueryRecorder {
  private readonly sentAt = new Map<string, number>()
  private readonly asked = new Set<string>()

  constructor(
    readonly trace: QueryTrace,
    private readonly target: Uint8Array,
    private readonly emit: (event: PeerEvent) => void
  ) {}

  get id(): string {
    return this.trace.id
  }

  /** `round`: set by lookups that know their rounds (the one-round lookups); otherwise traces infer them. */
  observe(event: QueryEvent & { round?: number }): void {
    const at = Date.now() - this.trace.startedAt
    const round = event.round != null ? { round: event.round } : {}
    switch (event.name) {
      case 'SEND_QUERY': {
        const peer = event.to.toString()
        this.sentAt.set(`${peer}:${event.messageName}`, at)
        this.asked.add(peer)
        this.trace.peersAsked = this.asked.size
        this.push({
          at,
          kind: 'send',
          path: event.path.index,
          message: event.messageName,
          ...round,
          ...this.where(event.to)
        })
        break
      }
      case 'PEER_RESPONSE': {
        const sent = this.sentAt.get(`${event.from.toString()}:${event.messageName}`)
        this.push({
          at,
          kind: 'response',
          path: event.path.index,
          message: event.messageName,
          closerPeers: event.closer.length,
          closerPeerIds: event.closer.slice(0, 20).map((p) => p.id.toString()),
          providers: event.providers.length,
          hasRecord: event.record != null,
          ...(sent != null ? { rttMs: at - sent } : {}),
          ...this.where(event.from)
        })
        break
      }
      case 'QUERY_ERROR': {
        const peer = event.from.toString()
        const sent = [...this.sentAt.entries()].find(([k]) => k.startsWith(`${peer}:`))?.[1]
        this.push({
          at,
          kind: 'error',
          path: event.path.index,
          error: event.error.message,
          ...(sent != null ? { rttMs: at - sent } : {}),
          ...this.where(event.from)
        })
        break
      }
      default:
        break
    }
  }

  finish(status: QueryTrace['status'], result: string | null): void {
    if (this.trace.status !== 'running') return
    this.trace.status = status
    this.trace.result = result
    this.trace.durationMs = Date.now() - this.trace.startedAt
    this.emit({ type: 'query:end', query: summary(this.trace), at: Date.now() })
  }

  private where(
    peerId: Parameters<typeof kadIdOfPeer>[0]
  ): Pick<QueryStep, 'peerId' | 'distance' | 'log2Distance'> {
    const id = kadIdOfPeer(peerId)
    return {
      peerId: peerId.toString(),
      distance: xorDistanceHex(id, this.target),
      log2Distance: log2Distance(id, this.target)
    }
  }

  private push(step: QueryStep): void {
    this.trace.steps.push(step)
    this.emit({ type: 'query:step', queryId: this.trace.id, step, at: Date.now() })
  }
}

/**
 * Runs a query's event stream through a recorder. Errors and early exits (the consumer stopped reading) close the
 * trace here; a stream that runs to its end is closed by the caller, who knows the outcome.
 */
export async function* traced(
  recorder: QueryRecorder,
  events: AsyncIterable<QueryEvent & { round?: number }>,
  signal?: AbortSignal
): AsyncGenerator<QueryEvent> {
  let completed = false
  try {
    for await (const event of events) {
      recorder.observe(event)
      yield event
    }
    completed = true
  } catch (err) {
    recorder.finish(signal?.aborted === true ? 'aborted' : 'failed', (err as Error).message)
    throw err
  } finally {
    if (!completed) recorder.finish(signal?.aborted === true ? 'aborted' : 'ok', 'stopped by the caller')
  }
}
