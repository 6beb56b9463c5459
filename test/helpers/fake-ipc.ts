/**
 * An in-memory stand-in for Electron's ipcMain/ipcRenderer pair, so the registrar, the preload bridge and the IPC
 * client are tested together without the Electron binary. Messages are structured-cloned, as Electron does.
 */
import type { IpcEventLike, IpcMainLike, SenderLike } from '../../src/main/desktop/ipc-registrar.ts'
import type { IpcRendererLike } from '../../src/preload/bridge.ts'

type MainListener = (event: IpcEventLike, ...args: unknown[]) => unknown
type RendererListener = (event: unknown, ...args: unknown[]) => void

export class FakeIpc {
  readonly handlers = new Map<string, MainListener>()
  readonly mainListeners = new Map<string, MainListener[]>()
  readonly rendererListeners = new Map<string, RendererListener[]>()
  private readonly destroyedListeners: Array<() => void> = []
  destroyed = false
  frameUrl = 'file:///app/out/renderer/index.html'

  readonly sender: SenderLike = {
    id: 1,
    send: (channel, ...args) => {
      for (const l of this.rendererListeners.get(channel) ?? [])
        l({ sender: 'electron-event' }, ...structuredClone(args))
    },
    isDestroyed: () => this.destroyed,
    once: (_event, listener) => void this.destroyedListeners.push(listener)
  }

  private event(): IpcEventLike {
    return { sender: this.sender, senderFrame: { url: this.frameUrl } }
  }

  readonly main: IpcMainLike = {
    handle: (channel, listener) => void this.handlers.set(channel, listener),
    on: (channel, listener) =>
      void this.mainListeners.set(channel, [...(this.mainListeners.get(channel) ?? []), listener]),
    removeHandler: (channel) => void this.handlers.delete(channel),
    removeAllListeners: (channel) => void this.mainListeners.delete(channel)
  }

  readonly renderer: IpcRendererLike = {
    invoke: async (channel, ...args) => {
      const handler = this.handlers.get(channel)
      if (handler == null) throw new Error(`No handler registered for '${channel}'`)
      return structuredClone(await handler(this.event(), ...structuredClone(args)))
    },
    send: (channel, ...args) => {
      for (const l of this.mainListeners.get(channel) ?? []) l(this.event(), ...structuredClone(args))
    },
    on: (channel, listener) =>
      void this.rendererListeners.set(channel, [...(this.rendererListeners.get(channel) ?? []), listener])
  }

  destroy(): void {
    this.destroyed = true
    for (const l of this.destroyedListeners) l()
  }
}
