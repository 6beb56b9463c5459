/**
 * The shape of the one object the preload exposes to the page (`window.swarm`), and the IPC channels behind it.
 * The page gets named methods only — never ipcRenderer — generated from the contract.
 */
import type { ApiInput, ApiOutput, CallMethod, StreamMethod } from './api-contract.ts'
import type { SerializedError } from './errors.ts'

export const IPC_CALL = 'swarm:call'
export const IPC_STREAM_OPEN = 'swarm:stream:open'
export const IPC_STREAM_CANCEL = 'swarm:stream:cancel'
export const IPC_STREAM_MESSAGE = 'swarm:stream:message'

/** A rejected `invoke` carries only the message across the bridge, so results carry their error name themselves. */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: SerializedError }

export type StreamMessage<T> =
  { type: 'item'; item: T } | { type: 'end' } | { type: 'error'; error: SerializedError }

export interface SwarmBridge {
  calls: { [M in CallMethod]: (input: ApiInput<M>) => Promise<IpcResult<ApiOutput<M>>> }
  /** Opens a stream; the listener receives items as they come, then one end or error. Returns a cancel function. */
  streams: {
    [M in StreamMethod]: (
      input: ApiInput<M>,
      listener: (message: StreamMessage<ApiOutput<M>>) => void
    ) => () => void
  }
}
