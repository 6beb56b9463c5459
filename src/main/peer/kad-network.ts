/**
 * kad-dht's network layer, as the code here uses it: "send one request to one peer, yield its query events".
 * kad-dht does not export such a call; `kadNetwork` reaches its `network.sendRequest`, checked at run time like the
 * routing table view. `DhtRequestStreams` (dht-request-streams.ts) has the same face over reused streams.
 */
import type { KadDHT, MessageType, QueryEvent } from '@libp2p/kad-dht'
import type { PeerId } from '@libp2p/interface'

export interface KadNetwork {
  sendRequest(
    to: PeerId,
    msg: { type: MessageType; key: Uint8Array; record?: Uint8Array },
    options: { signal?: AbortSignal; path: { index: number; queued: number; running: number; total: number } }
  ): AsyncIterable<QueryEvent>
}

/** The path of a request sent outside kad-dht's disjoint paths (those are numbered from 0), for traces. */
export const OUTSIDE_PATHS = { index: -1, queued: 0, running: 0, total: 0 }

export function kadNetwork(dht: KadDHT): KadNetwork {
  const network = (dht as unknown as { network?: Partial<KadNetwork> }).network
  if (typeof network?.sendRequest !== 'function') {
    throw new Error(
      'this version of @libp2p/kad-dht does not expose network.sendRequest; update kad-network.ts'
    )
  }
  return network as KadNetwork
}
