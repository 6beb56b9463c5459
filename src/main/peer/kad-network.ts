/**
 * kad-dht's network layer, as the code here uses it: "send one request to one peer, yield its query events".
 * kad-dht does not export such a call; `kadNetwork` reaches its `network.sendRequest`, checked at run time like the
 * routing table view. `DhtRequestStreams` (dht-request-streams.ts) has the same face over reused streams.
 */
import type { KadDHT, MessageType, QueryEvent } from '@libp2p/kad-dht'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

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

/** A one-way DHT message (ADD_PROVIDER has no answer): peer ids and addresses as bytes, as on the wire. */
export interface KadOneWayMessage {
  type: MessageType
  key: Uint8Array
  providers: { id: Uint8Array; multiaddrs: Uint8Array[] }[]
}

/**
 * Sends a message that has no answer, yielding kad-dht's events for it (DIAL_PEER, SEND_QUERY, then PEER_RESPONSE
 * once it is written, or QUERY_ERROR), as kad-dht's `network.sendMessage` does. `DhtRequestStreams` sends over its
 * reused streams.
 */
export interface KadMessenger {
  sendMessage(
    to: PeerId,
    msg: KadOneWayMessage,
    options: { signal?: AbortSignal; path: Parameters<KadNetwork['sendRequest']>[2]['path'] }
  ): AsyncIterable<QueryEvent>
}

/**
 * kad-dht's provider store (`providers.addProvider`), where a provide notes this peer first, as kad-dht's own does:
 * its reprovider re-announces the keys this peer is noted as providing. Not exported; checked at run time.
 */
export function kadProviderStore(dht: KadDHT): {
  addProvider(cid: CID, provider: PeerId, options?: { signal?: AbortSignal }): Promise<void>
} {
  const providers = (dht as unknown as { providers?: { addProvider?: unknown } }).providers
  if (typeof providers?.addProvider !== 'function') {
    throw new Error(
      'this version of @libp2p/kad-dht does not expose providers.addProvider; update kad-network.ts'
    )
  }
  const addProvider = providers.addProvider as (
    cid: CID,
    provider: PeerId,
    options?: { signal?: AbortSignal }
  ) => Promise<void>
  return { addProvider: (cid, provider, options) => addProvider.call(providers, cid, provider, options) }
}
