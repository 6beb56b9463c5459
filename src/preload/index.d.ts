import type { SwarmBridge } from '../shared/ipc-bridge.ts'

declare global {
  interface Window {
    /** Present in the desktop window (exposed by the preload); absent in browser mode. */
    swarm?: SwarmBridge
  }
}

export {}
