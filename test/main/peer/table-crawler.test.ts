/**
 * The table crawler asks each connected peer about a region in turn. Four connected peers each know a different
 * quarter of a swarm (answering, as kad-dht does, with the peers they know in the region asked about); a real kad-dht
 * routing table, filled through the crawler and the contact check, must end up with the whole swarm. A crawler that
 * always asks the connected peer closest to each region learns only what those peers know of their regions.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { EventTypes, kadDHT, MessageType, type QueryEvent } from '@libp2p/kad-dht'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import type { PeerId, PeerInfo } from '@libp2p/interface'
import { checkContactsByConnection } from '../../../src/main/peer/contact-check.ts'
import { kadIdOfKey, kadIdOfPeer } from '../../../src/main/peer/kad-id.ts'
import type { KadNetwork } from '../../../src/main/peer/kad-network.ts'
import { kadRoutingTable } from '../../../src/main/peer/routing-table-view.ts'
import { TableCrawler } from '../../../src/main/peer/table-crawler.ts'

/** The crawler's regions: the first 4 bits of a kad id. */
const regionOf = (kadId: Uint8Array): number => kadId[0]! >> 4

async function peerIds(count: number): Promise<PeerId[]> {
  return Promise.all(
    Array.from({ length: count }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')))
  )
}

const nodes: Libp2p[] = []
const stops: AbortController[] = []
afterEach(async () => {
  for (const stop of stops.splice(0)) stop.abort()
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
})

describe('table crawler', () => {
  it('asks each connected peer about a region in turn, so the table gets what any of them knows', async () => {
    const node = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      services: {
        identify: identify(),
        ping: ping(),
        dht: kadDHT({
          protocol: '/swarm-inspector-test/kad/1.0.0',
          clientMode: false,
          initialQuerySelfInterval: 3_600_000
        })
      }
    })
    nodes.push(node)
    const linked = await peerIds(4)
    const swarm = await peerIds(64)
    // Connected peer i knows the swarm peers whose index is i modulo 4: each knows a quarter of every region.
    const knows = new Map(linked.map((peer, i) => [peer.toString(), swarm.filter((_, j) => j % 4 === i)]))
    const info = (id: PeerId): PeerInfo => ({ id, multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/9')] })
    const unexpected: MessageType[] = []
    const network: KadNetwork = {
      async *sendRequest(to, message, options): AsyncGenerator<QueryEvent> {
        // Counted, not asserted here: the crawler treats a throwing request as a silent peer.
        if (message.type !== MessageType.FIND_NODE) unexpected.push(message.type)
        const region = regionOf(kadIdOfKey(message.key))
        const closer = (knows.get(to.toString()) ?? [])
          .filter((peer) => regionOf(kadIdOfPeer(peer)) === region)
          .map(info)
        yield {
          name: 'PEER_RESPONSE',
          type: EventTypes.PEER_RESPONSE,
          from: to,
          messageName: 'FIND_NODE',
          messageType: MessageType.FIND_NODE,
          closer,
          providers: [],
          path: options.path
        }
      }
    }
    const isLinked = (peer: PeerId): boolean => knows.has(peer.toString())
    const stop = new AbortController()
    stops.push(stop)
    const crawler = new TableCrawler(
      node.services.dht,
      network,
      node.peerId,
      node.peerStore,
      stop.signal,
      3_600_000,
      isLinked
    )
    checkContactsByConnection(
      node.services.dht,
      node,
      stop.signal,
      (peer) => isLinked(peer) || crawler.vouches(peer)
    )
    const table = kadRoutingTable(node.services.dht)
    for (const peer of linked) await table.add(peer)
    expect(table.size).toBe(linked.length)

    // Each region's question goes to another connected peer each crawl: after four, each has been asked about each
    // region once (two more for the rounding of the per-peer question cap).
    for (let crawl = 0; crawl < 6; crawl++) await crawler.crawl()
    const held = new Set([...table.kb.toIterable()].map((c) => c.peerId.toString()))
    const missing = swarm.filter((peer) => !held.has(peer.toString()))
    expect(missing).toEqual([])
    expect(unexpected).toEqual([])
  }, 30_000)
})
