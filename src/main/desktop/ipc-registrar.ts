/**
 * The one IPC registrar of the main process. For every message it checks that the sender is our window's main
 * frame showing our own page, validates the method name and input against the contract, and answers
 * `{ ok, value } | { ok: false, error: { name, message } }` (calls) or stream messages (streams).
 * It is written against small interfaces, not Electron's classes, so tests drive it with fakes.
 */
import { apiContract, isMethodName, parseInput, type PeerApiHandlers } from '../../shared/api-contract.ts'
import { ForbiddenError, InvalidInputError, serializeError } from '../../shared/errors.ts'
import {
  IPC_CALL,
  IPC_STREAM_CANCEL,
  IPC_STREAM_MESSAGE,
  IPC_STREAM_OPEN,
  type IpcResult,
  type StreamMessage
} from '../../shared/ipc-bridge.ts'

export interface SenderLike {
  id: number
  send(channel: string, ...args: unknown[]): void
  isDestroyed(): boolean
  once(event: 'destroyed', listener: () => void): void
}

export interface IpcEventLike {
  sender: SenderLike
  senderFrame: { url: string } | null
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => unknown): void
  on(channel: string, listener: (event: IpcEventLike, ...args: unknown[]) => void): void
  removeHandler(channel: string): void
  removeAllListeners(channel: string): void
}

export interface RegistrarInit {
  ipc: IpcMainLike
  handlers: PeerApiHandlers
  /** True only for our window's main frame showing our page. */
  isTrustedSender(event: IpcEventLike): boolean
}

export function registerIpc({ ipc, handlers, isTrustedSender }: RegistrarInit): () => void {
  const streams = new Map<string, AbortController>()

  const resolveMethod = (
    event: IpcEventLike,
    method: unknown,
    kind: 'call' | 'stream'
  ): keyof PeerApiHandlers => {
    if (!isTrustedSender(event)) throw new ForbiddenError('IPC from an untrusted frame refused')
    if (typeof method !== 'string' || !isMethodName(method) || apiContract[method].kind !== kind) {
      throw new InvalidInputError(`unknown ${kind} method: ${String(method)}`)
    }
    return method
  }

  ipc.handle(IPC_CALL, async (event, method, input): Promise<IpcResult<unknown>> => {
    try {
      const name = resolveMethod(event, method, 'call')
      const parsed = parseInput(name, input)
      const fn = handlers[name] as (input: unknown, options: object) => Promise<unknown>
      return { ok: true, value: await fn.call(handlers, parsed, {}) }
    } catch (err) {
      return { ok: false, error: serializeError(err) }
    }
  })

  ipc.on(IPC_STREAM_OPEN, (event, id, method, input) => {
    const send = (message: StreamMessage<unknown>): void => {
      if (!event.sender.isDestroyed()) event.sender.send(IPC_STREAM_MESSAGE, id, message)
    }
    let name: keyof PeerApiHandlers
    let parsed: unknown
    try {
      if (typeof id !== 'number') throw new InvalidInputError('stream id must be a number')
      name = resolveMethod(event, method, 'stream')
      parsed = parseInput(name, input)
    } catch (err) {
      send({ type: 'error', error: serializeError(err) })
      return
    }
    const key = `${event.sender.id}:${id}`
    const controller = new AbortController()
    streams.get(key)?.abort()
    streams.set(key, controller)
    event.sender.once('destroyed', () => controller.abort())
    const open = handlers[name] as (
      input: unknown,
      options: { signal: AbortSignal }
    ) => AsyncIterable<unknown>
    void (async () => {
      try {
        for await (const item of open.call(handlers, parsed, { signal: controller.signal })) {
          if (controller.signal.aborted) break
          send({ type: 'item', item })
        }
        if (!controller.signal.aborted) send({ type: 'end' })
      } catch (err) {
        if (!controller.signal.aborted) send({ type: 'error', error: serializeError(err) })
      } finally {
        if (streams.get(key) === controller) streams.delete(key)
      }
    })()
  })

  ipc.on(IPC_STREAM_CANCEL, (event, id) => {
    if (!isTrustedSender(event)) return
    streams.get(`${event.sender.id}:${String(id)}`)?.abort()
  })

  return () => {
    for (const controller of streams.values()) controller.abort()
    ipc.removeHandler(IPC_CALL)
    ipc.removeAllListeners(IPC_STREAM_OPEN)
    ipc.removeAllListeners(IPC_STREAM_CANCEL)
  }
}
