/**
 * The contract over Electron IPC, for the renderer in the desktop window: wraps the preload's bridge so UI code sees
 * exactly the same `PeerApiClient` as in browser mode.
 */
import { pushable } from 'it-pushable'
import { apiContract, methodNames, type CallOptions, type PeerApiClient } from './api-contract.ts'
import { ApiError, deserializeError } from './errors.ts'
import type { IpcResult, StreamMessage, SwarmBridge } from './ipc-bridge.ts'
import { queueIterable } from './queue-iterable.ts'

type AnyCall = (input: unknown) => Promise<IpcResult<unknown>>
type AnyStream = (input: unknown, listener: (message: StreamMessage<unknown>) => void) => () => void

export function createIpcClient(bridge: SwarmBridge): PeerApiClient {
  const client: Record<string, unknown> = {}
  for (const method of methodNames) {
    if (apiContract[method].kind === 'call') {
      const call = (bridge.calls as unknown as Record<string, AnyCall>)[method]
      client[method] = async (input: unknown, options?: CallOptions) => {
        if (call == null) throw new ApiError('InternalError', `the preload does not expose ${method}`)
        options?.signal?.throwIfAborted()
        const result = await call(input ?? {})
        if (!result.ok) throw deserializeError(result.error)
        return result.value
      }
    } else {
      const open = (bridge.streams as unknown as Record<string, AnyStream>)[method]
      client[method] = (input: unknown, options?: CallOptions): AsyncIterable<unknown> => {
        if (open == null) throw new ApiError('InternalError', `the preload does not expose ${method}`)
        const queue = pushable<unknown>({ objectMode: true })
        const cancel = open(input ?? {}, (message) => {
          if (message.type === 'item') queue.push(message.item)
          else if (message.type === 'end') queue.end()
          else queue.end(deserializeError(message.error))
        })
        options?.signal?.addEventListener(
          'abort',
          () => {
            cancel()
            queue.end()
          },
          { once: true }
        )
        return queueIterable(queue, () => {
          cancel()
          queue.end()
        })
      }
    }
  }
  return client as PeerApiClient
}
