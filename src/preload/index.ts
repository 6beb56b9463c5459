/**
 * The preload: runs sandboxed, before the page, and exposes exactly one object, `window.swarm`, with a named
 * method per contract call and stream. Emitted as CommonJS (a sandboxed preload cannot be an ES module).
 */
import { contextBridge, ipcRenderer } from 'electron'
import { createBridge } from './bridge.ts'

contextBridge.exposeInMainWorld('swarm', createBridge(ipcRenderer))
