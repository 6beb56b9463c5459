/**
 * Holds the client the app was started with (IPC or HTTP), for the bridge and the peer actions. Components use the
 * actions, never the client.
 */
import type { PeerApiClient } from '../../../shared/api-contract.ts'

let current: PeerApiClient | null = null

export function setPeerClient(client: PeerApiClient): void {
  current = client
}

export function peerClient(): PeerApiClient {
  if (current == null) throw new Error('the peer client is not set (setPeerClient at start-up)')
  return current
}
