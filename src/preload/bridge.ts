/**
 * Builds the bridge object from the contract, given the two ipcRenderer functions it needs. Kept apart from
 * index.ts (which imports electron) so tests can check it with a fake.
 */
import { apiContract, methodNames } from '../shared/api-contract.ts'
import {
  IPC_CALL,
  IPC_STREAM_CANCEL,
  IPC_STREAM_MESSAGE,
  IPC_STREAM_OPEN,
  type StreamMessage,
  type SwarmBridge
} from '../shared/ipc-bridge.ts'

export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>
  send(channel: string, ...args: unknown[]): void
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): void
}

export function createBridge(ipc: IpcRendererLike): SwarmBridge {
  const listeners = new Map<number, (message: StreamMessage<unknown>) => void>()
  let nextId = 1
  // One listener for every stream; the Electron event object is dropped here and never reaches the page.
  ipc.on(IPC_STREAM_MESSAGE, (_event, id, message) => {
    const listener = listeners.get(id as number)
    if (listener == null) return
    const typed = message as StreamMessage<unknown>
    if (typed.type !== 'item') listeners.delete(id as number)
    listener(typed)
  })

  const calls: Record<string, unknown> = {}
  const streams: Record<string, unknown> = {}
  for (const method of methodNames) {
    if (apiContract[method].kind === 'call') {
      calls[method] = (input: unknown) => ipc.invoke(IPC_CALL, method, input)
    } else {
      streams[method] = (input: unknown, listener: (message: StreamMessage<unknown>) => void) => {
        const id = nextId++
        listeners.set(id, listener)
        ipc.send(IPC_STREAM_OPEN, id, method, input)
        return () => {
          if (listeners.delete(id)) ipc.send(IPC_STREAM_CANCEL, id)
        }
      }
    }
  }
  return { calls, streams } as SwarmBridge
}
