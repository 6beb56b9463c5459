/**
 * Fills kad-dht's routing table with the whole swarm, the way go-libp2p's accelerated client crawls the network, but
 * with a fixed number of questions per crawl rather than one per peer.
 *
 * The keyspace is cut into 16 equal regions. For each region the crawler asks a peer it is connected to, the closest to
 * that region among those it has not asked about it yet (so each in turn, crawl after crawl), for the peers closest to
 * a key inside it (FIND_NODE); the answers together name the peers of every region (at most k from each answer, see
 * `nearestNamed`). Each named peer is added to the table through the table's own door, so the IP-diversity filter
 * applies. When the peer that named it is one of this peer's own network (`hearsay`, which swarm-peer.ts takes from the
 * filter), its word vouches for it (see contact-check.ts), so it is not dialled: connections are opened when a lookup
 * needs them. Otherwise the contact check dials it, at the addresses the answer gave that `hearsay` keeps: a peer on
 * the open internet could name made-up identities, each announcing an address of a range of its own, and fill the table
 * with dead entries that the filter (grouping them by what they announce) cannot tell from honest ones; and it could
 * name addresses of this peer's LAN, to have it dial them. One-round lookups start once the first crawl has run (see
 * `crawled`); the crawler then probes a few regions, backing off, for a minute and until two probes in a row find
 * nothing new (see start).
 *
 * In a swarm of N peers a crawl costs 16 small requests whatever N is (a crawl can name up to 16 × k = 320 peers),
 * where asking every peer costs N requests and N connections, and N² across a swarm starting at once: at 100 peers on
 * two cores that version never finished settling. (In a swarm of strangers, on public addresses, each peer named is
 * also dialled once, by the contact check.)
 */
import { MessageType, type KadDHT } from '@libp2p/kad-dht'
import type { PeerId, PeerInfo, PeerStore } from '@libp2p/interface'
import { randomBytes } from 'node:crypto'
import { compare, xor } from 'uint8arrays'
import type { Hearsay } from './hearsay.ts'
import { kadIdOfKey } from './kad-id.ts'
import { OUTSIDE_PATHS, type KadNetwork } from './kad-network.ts'
import { nearestNamed } from './closest-peers.ts'
import { kadRoutingTable } from './routing-table-view.ts'

/** log2 of the number of keyspace regions asked about per crawl. */
const REGION_BITS = 4
/** Questions in flight at once. */
const ASK_CONCURRENCY = 4
/** New contacts being added at once (each is a peer store write) when each waits for a dial. */
const ADD_CONCURRENCY = 16
/** Peers tried per region when the first one does not answer. */
const TRIES_PER_REGION = 3
/**
 * Questions one peer gets per crawl. A newcomer knows only its bootstrap peer; eight answers from it name up to 160
 * peers, and a hundred newcomers asking every question of the same bootstrap peer would saturate its process.
 */
export const QUESTIONS_PER_PEER = 8
/**
 * Questions go to peers this one is already connected to, the closest of them to each region first: a new libp2p
 * connection costs about 26 ms of CPU on each side (noise, identify), a question a few ms, and a swarm whose
 * crawls each open connections to the peers nearest every region ends up connecting nearly every pair of peers,
 * which at 100 peers on two cores kept every process saturated for minutes. A crawl opens at most this many new
 * connections to ask questions, to the closest known peers of regions no connected peer could be asked about (the
 * contact check's dials of peers that strangers named are not counted here).
 */
export const NEW_CONNECTIONS_PER_CRAWL = 4
/** How long after start the crawler keeps probing for peers that joined after it. */
const SETTLE_MS = 60_000
/** Regions a probe asks about (a full crawl asks about all of them). */
const PROBE_REGIONS = 4
const ASK_TIMEOUT_MS = 5_000
/** How long a peer named in an answer may enter the table on its namer's word. */
const VOUCH_MS = 60_000

/** What one crawl did: what the settling schedule decides on. */
interface CrawlSummary {
  added: number
  failed: number
}

/** What a crawl's passes share: its question budgets and the peers that did not answer. */
interface CrawlState {
  silent: Set<string>
  /** Questions put to each peer this crawl (at most QUESTIONS_PER_PEER). */
  questions: Map<string, number>
  newConnections: number
  failed: number
  /** Peers named this crawl: each is added (or refused, or dialled and found dead) once per crawl. */
  noted: Set<string>
}

export class TableCrawler {
  private readonly table: ReturnType<typeof kadRoutingTable>
  private running: Promise<CrawlSummary | null> | null = null
  private timer: NodeJS.Timeout | undefined
  /**
   * Peers named by an answer to the crawler, until when their namer's word stands for them: the contact check asks
   * `vouches` when the crawler adds them.
   */
  private readonly named = new Map<string, number>()
  private firstCrawlDone = false
  /**
   * Per region (the first REGION_BITS bits of its kad ids), the connected peers asked about it since each of them
   * last was: a region's next question goes to the closest connected peer not asked yet (see run).
   */
  private readonly askedAbout = new Map<number, Set<string>>()

  constructor(
    dht: KadDHT,
    /** How requests are sent: over reused streams (dht-request-streams.ts). */
    private readonly network: KadNetwork,
    private readonly self: PeerId,
    private readonly peerStore: PeerStore,
    private readonly signal: AbortSignal,
    private readonly refreshMs: number,
    /** Whether there is an open connection to a peer (asking it then costs no handshake). */
    private readonly connected: (peerId: PeerId) => boolean,
    /** How much of a peer's answer is taken (see Hearsay). */
    private readonly hearsay: (namer: PeerId) => Hearsay
  ) {
    this.table = kadRoutingTable(dht)
  }

  /**
   * Crawls as soon as the table has its first peer. Then, backing off, it probes a few regions (PROBE_REGIONS).
   * Probing goes on for SETTLE_MS after start and until two probes in a row find nothing (peers that joined after
   * this one are learnt this way; they may not have asked it anything). Then a full crawl every `refreshMs`.
   *
   * A probe that finds missing peers does not start a full crawl (it once did). While a swarm forms, nearly every
   * probe finds some, so every peer kept crawling all regions (in a 100-peer swarm, about one full crawl a second per
   * worker of 25 peers, still a minute after the join); without those crawls the swarm went quiet seconds after it
   * formed, with 30 % less CPU and 25 % less memory per peer, and lookups no slower within the runs' spread (README,
   * "What each change bought").
   */
  start(): void {
    const startedAt = Date.now()
    let quiet = 0
    const settle = (delayMs: number): void => {
      const timer = setTimeout(() => {
        if (this.table.size === 0) return settle(50)
        void (async () => {
          const summary = await this.crawl(this.firstCrawlDone ? PROBE_REGIONS : undefined)
          if (summary == null) return
          quiet = summary.added === 0 && summary.failed === 0 ? quiet + 1 : 0
          if (Date.now() - startedAt < SETTLE_MS || quiet < 2) settle(Math.min(delayMs * 2 + 500, 16_000))
        })()
      }, delayMs)
      timer.unref()
    }
    settle(0)
    this.timer = setInterval(() => void this.crawl(), this.refreshMs)
    this.timer.unref()
    this.signal.addEventListener('abort', () => clearInterval(this.timer), { once: true })
  }

  /**
   * True once a crawl of every region has run: the table then holds what the swarm knew of itself at that moment,
   * enough for one-round lookups (a miss widens to the next closest peers). Waiting for a crawl that finds nothing
   * new instead kept peers of a 200-peer swarm on kad-dht's iterative lookups for the first minute.
   */
  get crawled(): boolean {
    return this.firstCrawlDone
  }

  /** Whether a peer was just named by a peer that answered this crawl (it may enter the table undialled). */
  vouches(peerId: PeerId): boolean {
    return (this.named.get(peerId.toString()) ?? 0) > Date.now()
  }

  /**
   * One crawl of all regions, or of `regions` of them at random (joins the running one, if any); null when the peer
   * stopped meanwhile.
   */
  crawl(regions?: number): Promise<CrawlSummary | null> {
    this.running ??= this.run(regions).finally(() => {
      this.running = null
    })
    return this.running
  }

  private async run(regions?: number): Promise<CrawlSummary | null> {
    const keys = regionKeys(REGION_BITS)
      .map((key) => ({ key, order: Math.random() }))
      .sort((a, b) => a.order - b.order)
      .slice(0, regions)
      .map(({ key }) => key)
    const crawl: CrawlState = {
      silent: new Set(),
      questions: new Map(),
      newConnections: 0,
      failed: 0,
      noted: new Set()
    }
    let added = 0
    // Regions no one could be asked about are asked about once the first answers are in the table. A newcomer is
    // connected to its bootstrap peer only and knows no other: that peer answers QUESTIONS_PER_PEER regions, and
    // the rest went unasked until the probes, a region or four at a time and backing off. A `serve` joining a
    // 100-peer swarm held 73-93 % of its ideal table after the first crawl, and took 4-16 s (once over 25 s) to fill
    // it. The second pass asks about them the peers the first one named: connected ones first (those its questions
    // connected meanwhile), else the nearest known, within the crawl's NEW_CONNECTIONS_PER_CRAWL. A region whose
    // peers were asked and did not answer is not asked again: the probes come back to it. The first crawl, and so
    // `crawled`, ends after the second pass (and, among strangers, after the first pass's dials of the peers it
    // added): one-round lookups start on a table with every region asked about.
    let unasked = keys
    for (let pass = 0; pass < 2 && unasked.length > 0; pass++) {
      const admitting = new Map<string, PeerId>()
      unasked = await this.askRegions(unasked, crawl, admitting)
      const sizeBefore = this.table.size
      // Peers taken on a namer's word first: they go in without a dial, while each of the others waits for one (5 s
      // at most), and a vouch lasts VOUCH_MS from the answer, not from the add. They go in one at a time: kad-dht's
      // k-bucket splits a full bucket across awaits, and a second add to that bucket meanwhile splits it again,
      // dropping the peers the first split's retry had placed (1-4 of 64 named peers missing after a newcomer's
      // crawl, in 3 of 12 runs of the crawler test). That removes the crawler's own overlapping adds, the bulk of a
      // join's, not kad-dht's or the lookups' adds made at the same moment. Each takes well under a millisecond: no
      // dial, and no ping short of a full bucket at the trie's last level (more than 1,280 peers).
      const adding = [...admitting.values()]
      const add = (peer: PeerId): Promise<unknown> =>
        this.table.add(peer, { signal: this.signal }).catch(() => {})
      await inPool(
        adding.filter((p) => this.vouches(p)),
        1,
        add
      )
      await inPool(
        adding.filter((p) => !this.vouches(p)),
        ADD_CONCURRENCY,
        add
      )
      added += this.table.size - sizeBefore
      if (this.signal.aborted) return null
    }
    const now = Date.now()
    for (const [peer, until] of this.named) if (until <= now) this.named.delete(peer)
    this.firstCrawlDone = true
    return { added, failed: crawl.failed }
  }

  /**
   * Asks about each region of `keys`, noting the peers named in `admitting`; returns the regions no peer could be
   * asked about (every known one out of questions, silent, or a new connection over the crawl's budget).
   */
  private async askRegions(
    keys: Uint8Array[],
    crawl: CrawlState,
    admitting: Map<string, PeerId>
  ): Promise<Uint8Array[]> {
    const unasked: Uint8Array[] = []
    await inPool(keys, ASK_CONCURRENCY, async (key) => {
      const target = kadIdOfKey(key)
      // Read per region: connections this crawl opened are asked before new ones are opened.
      const linked = [...this.table.kb.toIterable()].filter((p) => this.connected(p.peerId))
      // Connected peers not yet asked about this region first, the closest first. Always asking the closest one
      // asked the same peer about a region crawl after crawl, and a peer that lacked some of the region's peers
      // (they joined after its own crawls, and never contacted it) never passed them on: a 100-peer swarm that
      // started together stalled at 87 % of its ideal tables, whole workers of the lab missing the same 17-25
      // peers, until the 10-minute crawl. Asking each connected peer in turn, at the same cost: 99 % at 45 s.
      const region = target[0]! >> (8 - REGION_BITS)
      const asked = this.askedAbout.get(region) ?? new Set<string>()
      this.askedAbout.set(region, asked)
      if (linked.every((p) => asked.has(p.peerId.toString()))) asked.clear()
      const nearestLinked = linked
        .map((p) => ({
          peerId: p.peerId,
          distance: xor(p.kadId, target),
          asked: asked.has(p.peerId.toString()) ? 1 : 0
        }))
        .sort((a, b) => a.asked - b.asked || compare(a.distance, b.distance))
        .map((p) => p.peerId)
      const nearestKnown = this.table
        .closestPeers(target, { count: TRIES_PER_REGION })
        .filter((p) => !this.connected(p))
      let tries = 0
      for (const peer of [...nearestLinked, ...nearestKnown]) {
        if (tries >= TRIES_PER_REGION || this.signal.aborted) break
        const text = peer.toString()
        const put = crawl.questions.get(text) ?? 0
        if (crawl.silent.has(text) || put >= QUESTIONS_PER_PEER) continue
        if (put === 0 && !this.connected(peer)) {
          if (crawl.newConnections >= NEW_CONNECTIONS_PER_CRAWL) continue
          crawl.newConnections++
        }
        crawl.questions.set(text, put + 1)
        tries++
        asked.add(text)
        const named = await this.ask(peer, key)
        if (named == null) {
          crawl.silent.add(text)
          crawl.failed++
          continue
        }
        for (const info of named) await this.remember(info, crawl, admitting)
        return
      }
      if (tries === 0 && !this.signal.aborted) unasked.push(key)
    })
    return unasked
  }

  /** Notes a named peer to be added, once a crawl, if the table does not hold it already. */
  private async remember(
    { id, multiaddrs }: PeerInfo,
    crawl: CrawlState,
    admitting: Map<string, PeerId>
  ): Promise<void> {
    const text = id.toString()
    // Noted before the table is read, so that two answers naming it at once do not both add it.
    if (id.equals(this.self) || crawl.noted.has(text)) return
    crawl.noted.add(text)
    if ((await this.table.find(id)) != null) return
    admitting.set(text, id)
    // Its addresses come with the answer; the peer store needs them before the peer can be dialled by id.
    await this.peerStore.merge(id, { multiaddrs }).catch(() => {})
  }

  /** The peers a FIND_NODE answer named, or null when the peer did not answer. */
  private async ask(peer: PeerId, key: Uint8Array): Promise<PeerInfo[] | null> {
    const signal = AbortSignal.any([this.signal, AbortSignal.timeout(ASK_TIMEOUT_MS)])
    try {
      for await (const event of this.network.sendRequest(
        peer,
        { type: MessageType.FIND_NODE, key },
        { signal, path: OUTSIDE_PATHS }
      )) {
        if (event.name === 'PEER_RESPONSE') {
          const { vouches, keeps } = this.hearsay(peer)
          const named = nearestNamed(
            event.closer.map(({ id, multiaddrs }) => ({ id, multiaddrs: multiaddrs.filter(keeps) })),
            key,
            this.table.kBucketSize
          )
          if (vouches) {
            const until = Date.now() + VOUCH_MS
            for (const { id } of named) this.named.set(id.toString(), until)
          }
          return named
        }
        if (event.name === 'QUERY_ERROR') return null
      }
    } catch {
      // An unreachable peer is kad-dht's to evict; the crawl goes on.
    }
    return null
  }
}

/** One key per region of the keyspace: a key whose kad id (sha2-256) starts with the region's `bits` bits. */
export function regionKeys(bits: number): Uint8Array[] {
  const keys: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(2 ** bits)
  let missing = keys.length
  while (missing > 0) {
    const key = new Uint8Array(randomBytes(32))
    const region = kadIdOfKey(key)[0]! >> (8 - bits)
    if (keys[region] == null) {
      keys[region] = key
      missing--
    }
  }
  return keys as Uint8Array[]
}

/** Runs `task` over `items`, at most `concurrency` at a time. */
async function inPool<T>(
  items: T[],
  concurrency: number,
  task: (item: T) => Promise<unknown>
): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker))
}
