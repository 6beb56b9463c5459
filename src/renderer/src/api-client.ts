/**
 * The renderer's one way to the peer. In the desktop window the preload exposes `window.swarm` (IPC); in a
 * browser the page came from `serve`, so the API is this page's own origin (HTTP). Nothing else in the UI knows
 * which one it got.
 */
import type { PeerApiClient } from '../../shared/api-contract.ts'
import { createHttpClient } from '../../shared/http-client.ts'
import { createIpcClient } from '../../shared/ipc-client.ts'

export type Transport = 'ipc' | 'http'

export function createClient(): { client: PeerApiClient; transport: Transport } {
  if (window.swarm != null) return { client: createIpcClient(window.swarm), transport: 'ipc' }
  return { client: createHttpClient({ baseUrl: '' }), transport: 'http' }
}
