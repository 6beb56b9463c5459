/**
 * The table crawler, against a real kad-dht routing table filled through the crawler and the contact check, with the
 * answers of the peers it asks made up here:
 * - it asks each connected peer about a region in turn. Four connected peers each know a different quarter of a
 *   swarm (answering, as kad-dht does, with the peers they know in the region asked about); the table must end up
 *   with the whole swarm. A crawler that always asks the connected peer closest to each region learns only what
 *   those peers know of their regions;
 * - a newcomer connected to its bootstrap peer alone, which answers 8 of the 16 regions of a crawl, has the other 8
 *   asked about in the same crawl, of peers the first answers named, within the crawl's question and connection
 *   budgets;
 * - it takes at most k peers from one answer, the closest to the key asked about, and none named without an address
 *   (a hostile peer may name thousands);
 * - the peers named by a peer whose word it does not trust are dialled before they enter, at the addresses kept: a
 *   live one enters, and made-up ones (an address where nothing listens) stay out, or are not even stored when
 *   their address is not kept, where a trusted word lets them all in;
 * - the peers taken on a trusted word enter first, without waiting behind the dials of the others.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { EventTypes, MessageType, type KadDHT, type QueryEvent } from '@libp2p/kad-dht'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { compare, xor } from 'uint8arrays'
import type { Libp2p } from 'libp2p'
import { createServer, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { PeerId, PeerInfo } from '@libp2p/interface'
import { checkContactsByConnection, CONTACT_DIAL_TIMEOUT_MS } from '../../../src/main/peer/contact-check.ts'
import { kadIdOfKey, kadIdOfPeer } from '../../../src/main/peer/kad-id.ts'
import type { KadNetwork } from '../../../src/main/peer/kad-network.ts'
import { kadRoutingTable } from '../../../src/main/peer/routing-table-view.ts'
import { TRUSTED_HEARSAY, type Hearsay } from '../../../src/main/peer/hearsay.ts'
import {
  NEW_CONNECTIONS_PER_CRAWL,
  QUESTIONS_PER_PEER,
  TableCrawler
} from '../../../src/main/peer/table-crawler.ts'
import { nearestNamed } from '../../../src/main/peer/closest-peers.ts'
import { kadNode } from '../../helpers/kad-node.ts'

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

/** A kad-dht node (its routing table is the one the crawler fills) that real peers can be dialled from. */
async function dhtNode(): Promise<Libp2p<{ dht: KadDHT }>> {
  const node = await kadNode({ ip: '127.0.0.1', protocol: '/swarm-inspector-test/kad/1.0.0' })
  nodes.push(node)
  return node
}

/** Where made-up peers claim to be: nothing listens there, so a dial is refused at once. */
const NOWHERE = multiaddr('/ip4/127.0.0.1/tcp/9')
const info = (id: PeerId): PeerInfo => ({ id, multiaddrs: [NOWHERE] })

/** A network whose FIND_NODE answers are `answer`'s, recording each key asked about; any other request is counted. */
function madeUpNetwork(answer: (to: PeerId, key: Uint8Array) => PeerInfo[]): {
  network: KadNetwork
  asked: Uint8Array[]
  unexpected: MessageType[]
} {
  const asked: Uint8Array[] = []
  const unexpected: MessageType[] = []
  const network: KadNetwork = {
    async *sendRequest(to, message, options): AsyncGenerator<QueryEvent> {
      // Counted, not asserted here: the crawler treats a throwing request as a silent peer.
      if (message.type !== MessageType.FIND_NODE) unexpected.push(message.type)
      asked.push(message.key)
      yield {
        name: 'PEER_RESPONSE',
        type: EventTypes.PEER_RESPONSE,
        from: to,
        messageName: 'FIND_NODE',
        messageType: MessageType.FIND_NODE,
        closer: answer(to, message.key),
        providers: [],
        path: options.path
      }
    }
  }
  return { network, asked, unexpected }
}

/** A crawler over `node`'s table, with the contact check as swarm-peer.ts wires it; `linked` count as connected. */
async function crawlerOf(
  node: Libp2p<{ dht: KadDHT }>,
  network: KadNetwork,
  linked: PeerId[],
  hearsay: Hearsay | ((namer: PeerId) => Hearsay)
): Promise<{ crawler: TableCrawler; held: () => Set<string> }> {
  const isLinked = (peer: PeerId): boolean => linked.some((l) => l.equals(peer))
  const stop = new AbortController()
  stops.push(stop)
  const crawler = new TableCrawler(
    node.services.dht,
    network,
    node.peerId,
    node.peerStore,
    stop.signal,
    3_600_000,
    isLinked,
    typeof hearsay === 'function' ? hearsay : () => hearsay
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
  return { crawler, held: () => new Set([...table.kb.toIterable()].map((c) => c.peerId.toString())) }
}

describe('table crawler', () => {
  it('asks each connected peer about a region in turn, so the table gets what any of them knows', async () => {
    const node = await dhtNode()
    const linked = await peerIds(4)
    const swarm = await peerIds(64)
    // Connected peer i knows the swarm peers whose index is i modulo 4: each knows a quarter of every region.
    const knows = new Map(linked.map((peer, i) => [peer.toString(), swarm.filter((_, j) => j % 4 === i)]))
    const { network, unexpected } = madeUpNetwork((to, key) => {
      const region = regionOf(kadIdOfKey(key))
      return (knows.get(to.toString()) ?? [])
        .filter((peer) => regionOf(kadIdOfPeer(peer)) === region)
        .map(info)
    })
    const { crawler, held } = await crawlerOf(node, network, linked, TRUSTED_HEARSAY)

    // Each region's question goes to another connected peer each crawl: after four, each has been asked about each
    // region once (two more for the rounding of the per-peer question cap).
    for (let crawl = 0; crawl < 6; crawl++) await crawler.crawl()
    const missing = swarm.filter((peer) => !held().has(peer.toString()))
    expect(missing).toEqual([])
    expect(unexpected).toEqual([])
  }, 30_000)

  it('asks about the regions its bootstrap peer had no questions left for, in the same crawl, of peers its answers named', async () => {
    const node = await dhtNode()
    const [bootstrap] = await peerIds(1)
    const swarm = await peerIds(64)
    // Every peer knows the whole swarm and answers, as kad-dht does, with the peers it knows in the region asked
    // about. A peer asked is connected from then on, as a real question's dial leaves it.
    const linked = [bootstrap!]
    const questions = new Map<string, number>()
    const { network } = madeUpNetwork((to, key) => {
      questions.set(to.toString(), (questions.get(to.toString()) ?? 0) + 1)
      if (!linked.some((peer) => peer.equals(to))) linked.push(to)
      const region = regionOf(kadIdOfKey(key))
      return swarm.filter((peer) => regionOf(kadIdOfPeer(peer)) === region).map(info)
    })
    const { crawler, held } = await crawlerOf(node, network, linked, TRUSTED_HEARSAY)

    // A newcomer's first crawl: its bootstrap peer answers QUESTIONS_PER_PEER of the 16 regions; the others are
    // asked of the peers those answers named (connected ones first, new connections at most
    // NEW_CONNECTIONS_PER_CRAWL), no peer asked more than QUESTIONS_PER_PEER questions in all.
    const summary = await crawler.crawl()
    const missing = swarm.filter((peer) => !held().has(peer.toString()))
    const regionsMissing = new Set(missing.map((peer) => regionOf(kadIdOfPeer(peer))))
    console.log(
      `[crawler] first crawl through one bootstrap peer: ${swarm.length - missing.length} of ${swarm.length} ` +
        `peers, ${16 - regionsMissing.size} of 16 regions; other peers asked ${questions.size - 1}, ` +
        `questions per peer ${[...questions.values()].join(', ')}`
    )
    expect(QUESTIONS_PER_PEER).toBeLessThan(16)
    // Every region was answered: every peer of the swarm was named, on a word the crawler takes.
    expect(swarm.filter((peer) => !crawler.vouches(peer))).toEqual([])
    // And every one entered the table. (Added 16 at a time, as a mutation, kad-dht's k-bucket lost 1 to 4 of them in
    // 3 of 12 runs here: a full bucket split twice at once.)
    expect(missing).toEqual([])
    expect(summary?.added).toBe(swarm.length - missing.length)
    expect(questions.size - 1).toBeGreaterThan(0)
    expect(questions.size - 1).toBeLessThanOrEqual(NEW_CONNECTIONS_PER_CRAWL)
    expect(Math.max(...questions.values())).toBeLessThanOrEqual(QUESTIONS_PER_PEER)
  }, 30_000)

  it('takes at most k peers from one answer, the closest to the key asked about, and none named without an address', async () => {
    const node = await dhtNode()
    const [hostile] = await peerIds(1)
    const many = await peerIds(200)
    const addressless = await peerIds(5)
    // Only the hostile peer answers: the peers it names are made up, and a second pass of the crawl that asked them
    // (about the regions the hostile peer had no questions left for) finds them silent. Every peer taken comes from
    // the hostile peer's answers.
    const asked: Uint8Array[] = []
    const { network } = madeUpNetwork((to, key) => {
      if (!to.equals(hostile!)) throw new Error('a made-up peer: nothing answers')
      asked.push(key)
      return [...many.map(info), ...addressless.map((id) => ({ id, multiaddrs: [] }))]
    })
    const { crawler, held } = await crawlerOf(node, network, [hostile!], TRUSTED_HEARSAY)
    await crawler.crawl()

    const k = kadRoutingTable(node.services.dht).kBucketSize
    const closest = (key: Uint8Array): PeerId[] =>
      [...many]
        .sort((a, b) => compare(xor(kadIdOfPeer(a), kadIdOfKey(key)), xor(kadIdOfPeer(b), kadIdOfKey(key))))
        .slice(0, k)
    const expected = new Set(asked.flatMap((key) => closest(key).map(String)))
    const vouched = many.filter((peer) => crawler.vouches(peer)).map(String)
    console.log(
      `[crawler] one peer named ${many.length + addressless.length} in each of ${asked.length} answers; ` +
        `${vouched.length} vouched for (k = ${k} per answer), ${held().size - 1} entered`
    )
    expect(asked.length).toBeGreaterThan(0)
    expect(new Set(vouched)).toEqual(expected)
    expect(expected.size).toBeLessThan(many.length)
    expect(addressless.filter((peer) => crawler.vouches(peer) || held().has(peer.toString()))).toEqual([])
    expect([...held()].filter((id) => id !== hostile!.toString() && !expected.has(id))).toEqual([])
    // The pure function, on its own: order and count, and at most 16 addresses per peer.
    const manyAddresses = {
      id: many[0]!,
      multiaddrs: Array.from({ length: 40 }, (_, i) => multiaddr(`/ip4/127.0.0.1/tcp/${i + 1}`))
    }
    expect(nearestNamed([manyAddresses], asked[0]!, 20)[0]!.multiaddrs).toHaveLength(16)
    const key = asked[0]!
    expect(nearestNamed([...many.map(info)].reverse(), key, 3).map((p) => p.id.toString())).toEqual(
      closest(key).slice(0, 3).map(String)
    )
  }, 30_000)

  it("dials the peers an untrusted peer names before they enter, at the addresses kept: made-up ones stay out, unlike on a trusted peer's word", async () => {
    const live = await Promise.all([dhtNode(), dhtNode()])
    const liveIds = live.map((n) => n.peerId)
    const madeUp = await peerIds(12)
    const liveInfo = live.map((n) => ({ id: n.peerId, multiaddrs: n.getMultiaddrs() }))
    const [namer] = await peerIds(1)
    const answer = (): PeerInfo[] => [...liveInfo, ...madeUp.map(info)]
    const crawled = async (
      hearsay: Hearsay
    ): Promise<{ node: Libp2p; vouched: number; held: Set<string> }> => {
      const node = await dhtNode()
      const { crawler, held } = await crawlerOf(node, madeUpNetwork(answer).network, [namer!], hearsay)
      await crawler.crawl()
      return { node, vouched: [...liveIds, ...madeUp].filter((p) => crawler.vouches(p)).length, held: held() }
    }
    const count = (held: Set<string>, peers: PeerId[]): number =>
      peers.filter((p) => held.has(p.toString())).length

    // Dialled at every address given: the made-up ones are not there.
    const untrusting = await crawled({ vouches: false, keeps: () => true })
    // Dialled only at the addresses kept: the made-up ones' one address is not, so they are dropped unstored.
    const wary = await crawled({ vouches: false, keeps: (address) => !address.equals(NOWHERE) })
    const trusting = await crawled(TRUSTED_HEARSAY)
    console.log(
      `[crawler] of ${madeUp.length} made-up peers named, ${count(untrusting.held, madeUp)} entered on an ` +
        `untrusted word (dialled), ${count(trusting.held, madeUp)} on a trusted one (undialled)`
    )
    for (const { node, held, vouched } of [untrusting, wary]) {
      expect(vouched).toBe(0)
      expect(count(held, madeUp)).toBe(0)
      expect(count(held, liveIds)).toBe(live.length)
      expect(
        liveIds.every((id) => node.getConnections(id).length > 0),
        'the live ones dialled'
      ).toBe(true)
    }
    const stored = async (node: Libp2p): Promise<number> =>
      (await Promise.all(madeUp.map((id) => node.peerStore.has(id)))).filter(Boolean).length
    expect(await stored(untrusting.node)).toBe(madeUp.length)
    expect(await stored(wary.node), 'no address kept: not stored, not dialled').toBe(0)
    expect(count(trusting.held, madeUp)).toBe(madeUp.length)
    expect(trusting.vouched).toBe(live.length + madeUp.length)
  }, 30_000)

  it('adds the peers taken on a trusted word before it dials the others, so they do not wait behind those dials', async () => {
    // A listener that accepts connections and never answers: a dial to it hangs until the contact check gives up.
    const sockets: Socket[] = []
    const silent = createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as { port: number }
    try {
      const node = await dhtNode()
      const [trusted, stranger] = (await peerIds(2)) as [PeerId, PeerId]
      const vouched = await peerIds(5)
      const hanging = await peerIds(4)
      const at = (id: PeerId): PeerInfo => ({ id, multiaddrs: [multiaddr(`/ip4/127.0.0.1/tcp/${port}`)] })
      const { network } = madeUpNetwork((to) => (to.equals(trusted) ? vouched.map(info) : hanging.map(at)))
      const { crawler, held } = await crawlerOf(node, network, [trusted, stranger], (namer) =>
        namer.equals(trusted) ? TRUSTED_HEARSAY : { vouches: false, keeps: () => true }
      )
      let crawlEnded: number | null = null
      // Ended however it ends, so that a failed crawl fails the test rather than leaving the loop below polling.
      const crawl = crawler.crawl().finally(() => (crawlEnded = performance.now()))
      let allVouchedIn: number | null = null
      while (crawlEnded == null && allVouchedIn == null) {
        if (vouched.every((p) => held().has(p.toString()))) allVouchedIn = performance.now()
        else await new Promise((resolve) => setTimeout(resolve, 10))
      }
      await crawl
      console.log(
        `[crawler] vouched-for peers all in ${allVouchedIn != null ? (crawlEnded! - allVouchedIn).toFixed(0) : '-'} ms ` +
          'before the crawl ended (its dials to a listener that never answers ran out)'
      )
      expect(allVouchedIn, 'the vouched-for peers entered before the crawl ended').not.toBeNull()
      // Added after them, the vouched-for peers would have waited for the hanging dials (5 s each, at once).
      expect(crawlEnded! - allVouchedIn!).toBeGreaterThan(CONTACT_DIAL_TIMEOUT_MS / 2)
      expect(sockets.length, 'the others were dialled').toBeGreaterThan(0)
      expect(hanging.filter((p) => held().has(p.toString()))).toEqual([])
    } finally {
      sockets.forEach((socket) => socket.destroy())
      silent.close()
    }
  }, 30_000)
})
