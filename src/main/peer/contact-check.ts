/**
 * How a new contact proves it is alive before it enters the routing table.
 *
 * kad-dht pings every new contact first (the libp2p ping protocol, through a queue of at most 100 waiting pings with
 * a 2 s adaptive timeout). Most contacts arrive with the proof already in hand: a peer that just connected to us, or
 * that answered a query, has an open, authenticated connection, and pinging it again costs a stream per contact.
 * In a join storm, when crawls name a hundred peers at once, the queue overflowed and the overflow was dropped as
 * "not online", which left the tables of a 100-peer swarm half empty.
 *
 * Here an open connection is proof enough. A contact the table crawler was just told about by a peer of this one's
 * own network that answered it (`vouched`; see table-crawler.ts for whose word counts) is taken on that peer's
 * word, as go-libp2p's crawler takes its crawl results: proving it by a
 * dial would mean a connection to every peer of the swarm, and a libp2p connection costs about 26 ms of CPU to set
 * up (noise, identify, peer store), so a mesh of 200 peers is 19,900 of them: minutes of CPU on two cores. A
 * vouched peer that turns out to be dead costs a lookup one failed request, and the lookup moves on to the next
 * closest peer. Any other contact is dialled, and a completed dial (an authenticated handshake with that very peer
 * id) is the proof.
 */
import type { KadDHT } from '@libp2p/kad-dht'
import type { PeerId } from '@libp2p/interface'
import { kadRoutingTable } from './routing-table-view.ts'

/** A contact that cannot be reached within this long stays out of the table (kad-dht's ping allows 2 s). */
export const CONTACT_DIAL_TIMEOUT_MS = 5_000

export interface ContactDialer {
  dial(peerId: PeerId, options: { signal: AbortSignal }): Promise<unknown>
}

/** `proven`: whether a contact is already known alive (connected, or vouched for) and needs no dial. */
export function checkContactsByConnection(
  dht: KadDHT,
  node: ContactDialer,
  shutdown: AbortSignal,
  proven: (peerId: PeerId) => boolean
): void {
  const table = kadRoutingTable(dht)
  table.kb.verify = async ({ peerId }, options) => {
    if (proven(peerId)) return true
    const signal = AbortSignal.any([
      shutdown,
      AbortSignal.timeout(CONTACT_DIAL_TIMEOUT_MS),
      ...(options?.signal != null ? [options.signal] : [])
    ])
    try {
      await node.dial(peerId, { signal })
      return true
    } catch {
      return false
    }
  }
}
