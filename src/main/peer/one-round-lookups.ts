/**
 * Lookups in one round from a full routing table, in the manner of go-libp2p's accelerated DHT client.
 *
 * A swarm of a few hundred peers fits in kad-dht's routing table (a trie of k-buckets up to 6 bits deep: 64 × 20
 * places), and the table crawler fills it. Once it is full, the k peers closest to any key are known locally, so
 * there is nothing left to iterate: a get asks the few closest at once and a put writes to the k closest at once.
 * Stock kad-dht instead walks the keyspace on every lookup (several rounds, 20-40 peers asked), and waits for all
 * of them, because it cannot know its table is complete.
 *
 * Every request here is an ordinary DHT message (sent over reused streams, dht-request-streams.ts), so the remote
 * side needs nothing new, and the events are kad-dht's, so traces and the UI's pictures work unchanged. A lookup
 * that finds nothing where the table says it should be (a stale or partial table) widens to the next closest peers
 * and, as a last resort, falls back to kad-dht's iterative lookup.
 */
import { EventTypes, MessageType, Record as DhtRecord, type KadDHT, type QueryEvent } from '@libp2p/kad-dht'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Datastore } from 'interface-datastore'
import merge from 'it-merge'
import type { CID } from 'multiformats/cid'
import { equals } from 'uint8arrays'
import { recordDatastoreKey } from './record-validation.ts'
import { closestOf } from './closest-peers.ts'
import { kadIdOfKey, kadIdOfPeer } from './kad-id.ts'
import { kadProviderStore, type KadMessenger, type KadNetwork, type KadOneWayMessage } from './kad-network.ts'
import { kadRoutingTable } from './routing-table-view.ts'
import { LatencySamples } from './latency-samples.ts'
import { walkToClosest } from './closest-walk.ts'

/** A kad-dht query event, tagged with the round of the lookup it belongs to (for traces). */
export type RoundEvent = QueryEvent & { round?: number }

export interface OneRoundOptions {
  signal: AbortSignal
}

/**
 * Peers a round asks: all at once for a provider lookup (providers are a union, and any peer may know one the
 * others do not); for a get, one first and the rest only if it is slow (see HEDGE_*). The record sits on all k
 * closest.
 */
export const GET_FANOUT = 3
/**
 * A get asks one peer and "hedges" (The Tail at Scale, Dean and Barroso): it asks the round's other peers only if
 * the first has not answered within the time most first answers take (the 90th percentile of the last
 * HEDGE_SAMPLES), or answers without the record. Asking three at once cost three answers' CPU on every get (each
 * names its 20 closest peers, with their addresses) and bought nothing in the common case: the round ended a
 * quarter of the first answer's time after it (HIT_GRACE_MS), mostly before the others' answers came. Alternating
 * the two in one process (20 peers, all connected), a get cost 5.0-5.3 ms of CPU asking one and 8.0-13.1 ms asking
 * three at once. At 100 peers over four processes, with the swarm quiet between lookups, get p50 went from 23 ms (25
 * with the hedge alone) to 10.5 ms once a round that asked one peer also lost its grace (HIT_GRACE_MS).
 */
export const HEDGE_SAMPLES = 32
/** Bounds of the hedge delay, and its value until there are samples. */
export const HEDGE_MIN_MS = 2
export const HEDGE_MAX_MS = 50
export const HEDGE_DEFAULT_MS = 10
/**
 * Peers that must confirm a one-round put before `putRecord` returns (the rest of the k closest are still being
 * written). With the local copy that is four copies before the caller hears "stored"; republishing tops the rest
 * up. A put's first wave is sized for it (see writeTo).
 */
export const PUT_QUORUM = 3
/** Rounds of widening before a miss falls back to the iterative lookup. */
const MAX_ROUNDS = 3
/** How long one round waits for its slowest peer before the next round starts without it. */
const ROUND_TIMEOUT_MS = 3_000
/**
 * How long a put waits for one peer's confirmation. Longer than a round: a put has no next round to move on to, and
 * in a swarm still busy settling (200 peers starting on two cores) handshakes took over 3 s, which failed puts whose
 * every target was new to this peer.
 */
const WRITE_TIMEOUT_MS = 10_000
/**
 * A provide's sends to peers it is not connected to, at once: each needs a handshake (kad-dht's provide sends three
 * at a time).
 */
const PROVIDE_DIALS = 3
/**
 * Once one peer of a get's round has answered with a valid record, how long the round still waits for the
 * others: a quarter of the time the first answer took, at most HIT_GRACE_MS. All of the k closest got the same put,
 * so the first valid answer is nearly always the newest; the grace lets a peer that answers at nearly the same time
 * show a newer version (the caller keeps the newest), without making every get as slow as the busiest of the peers
 * asked. A fixed 5 ms grace was a third of a median get at 100 peers (first answers came at 5-10 ms). A round that
 * has asked one peer only (a get's hedge has not fired) has no grace.
 */
export const HIT_GRACE_MS = 5

const PATH = { index: 0, queued: 0, running: 0, total: 0 }

export class OneRoundLookups {
  private readonly table: ReturnType<typeof kadRoutingTable>
  /** How long recent gets' first peers (connected ones) took to answer, ms: what the hedge delay is drawn from. */
  private readonly firstAnswers = new LatencySamples(HEDGE_SAMPLES)

  constructor(
    private readonly dht: KadDHT,
    /** This peer (a walk never asks it). */
    private readonly self: PeerId,
    /** How requests and one-way messages are sent: over reused streams (dht-request-streams.ts). */
    private readonly network: KadNetwork & KadMessenger,
    private readonly datastore: Datastore,
    /** Whether the table is full enough to trust (the crawler's first crawl has run). */
    private readonly ready: () => boolean,
    /** Whether there is an open connection to a peer (asking it then costs no handshake). */
    private readonly connected: (peerId: PeerId) => boolean,
    /**
     * Of some peers (nearest first), those the table's door (the IP-diversity filter) would let in together; a
     * republish's walk writes only to those. All of them when there is no filter.
     */
    private readonly admitted: (peers: PeerId[]) => Promise<PeerId[]> = async (peers) => peers
  ) {
    this.table = kadRoutingTable(dht)
  }

  get k(): number {
    return this.table.kBucketSize
  }

  usable(): boolean {
    return this.ready() && this.table.size > 0
  }

  /** The `count` closest peers to a DHT key that the routing table holds, nearest first. */
  closest(dhtKey: Uint8Array, count: number): PeerId[] {
    return this.table.closestPeers(kadIdOfKey(dhtKey), { count })
  }

  /** Peers already connected, and the others, each in the order given. */
  private byConnection(peers: PeerId[]): [PeerId[], PeerId[]] {
    const warm: PeerId[] = []
    const cold: PeerId[] = []
    for (const peer of peers) (this.connected(peer) ? warm : cold).push(peer)
    return [warm, cold]
  }

  /**
   * GET_VALUE to the closest peers, round by round, until one round brings a valid record; every valid record of
   * that round is yielded as a VALUE event (the caller picks the newest). `valid` judges a record's value; an invalid
   * one does not end a round. Falls back to kad-dht's iterative get.
   */
  async *getValue(
    dhtKey: Uint8Array,
    options: OneRoundOptions,
    valid: (value: Uint8Array) => Promise<boolean>
  ): AsyncGenerator<RoundEvent> {
    const found = yield* this.rounds(dhtKey, MessageType.GET_VALUE, options, async (event) =>
      event.name === 'PEER_RESPONSE' && event.record != null && (await valid(event.record.value))
        ? {
            name: 'VALUE',
            type: EventTypes.VALUE,
            from: event.from,
            value: event.record.value,
            path: event.path
          }
        : null
    )
    if (!found) yield* this.dht.get(dhtKey, options)
  }

  /**
   * GET_PROVIDERS the same way; providers are yielded as soon as each peer answers, and a round waits for all of its
   * peers (there is no newest provider record to settle for).
   */
  async *getProviders(cid: CID, options: OneRoundOptions): AsyncGenerator<RoundEvent> {
    const found = yield* this.rounds(
      cid.multihash.bytes,
      MessageType.GET_PROVIDERS,
      options,
      async (event) =>
        event.name === 'PEER_RESPONSE' && event.providers.length > 0
          ? {
              name: 'PROVIDER',
              type: EventTypes.PROVIDER,
              from: event.from,
              providers: event.providers,
              path: event.path
            }
          : null
    )
    if (!found) yield* this.dht.findProviders(cid, options)
  }

  /**
   * Announces this peer as a provider of `cid` (at `multiaddrs`) to the k closest peers of the table, in one round:
   * noted in this peer's own provider store first, as kad-dht's provide does (its reprovider re-announces what is
   * noted there), then ADD_PROVIDER over reused streams to the connected ones at once and to the others
   * PROVIDE_DIALS at a time (each needs a handshake). ADD_PROVIDER has no answer: a send is done once written, and a
   * send that fails goes to the next closest peer instead, as a put's write does. kad-dht's provide first walks the
   * keyspace to the closest peers (several rounds, 20-40 requests), then sends three at a time: 210 ms p50 at 100
   * peers in the lab, where a put took 25-30 ms; this one, 25-46 ms. With an empty table it is kad-dht's provide.
   * The hourly re-announcement walks first (SwarmPeer.announce), as a republish does.
   */
  async *provide(cid: CID, multiaddrs: Multiaddr[], options: OneRoundOptions): AsyncGenerator<RoundEvent> {
    const key = cid.multihash.bytes
    const candidates = this.closest(key, this.k * 2)
    const peers = candidates.slice(0, this.k)
    if (peers.length === 0) {
      yield* this.dht.provide(cid, options)
      return
    }
    await kadProviderStore(this.dht).addProvider(cid, this.self, options)
    const network = this.network
    const message: KadOneWayMessage = {
      type: MessageType.ADD_PROVIDER,
      key,
      providers: [{ id: this.self.toMultihash().bytes, multiaddrs: multiaddrs.map((m) => m.bytes) }]
    }
    const spares = candidates.slice(this.k)
    const { signal } = options
    const send = async function* (peer: PeerId): AsyncGenerator<RoundEvent> {
      let failed = false
      const timeout = AbortSignal.any([signal, AbortSignal.timeout(WRITE_TIMEOUT_MS)])
      for await (const event of network.sendMessage(peer, message, { signal: timeout, path: PATH })) {
        if (event.name === 'QUERY_ERROR') failed = true
        yield { ...event, round: 1 }
      }
      const spare = failed && !signal.aborted ? spares.shift() : undefined
      if (spare != null) yield* send(spare)
    }
    const [warm, cold] = this.byConnection(peers)
    // PROVIDE_DIALS senders take the cold peers in turn, each the next as soon as its last is done.
    const dialling = async function* (): AsyncGenerator<RoundEvent> {
      for (let peer = cold.shift(); peer != null; peer = cold.shift()) yield* send(peer)
    }
    const dialers = Array.from({ length: Math.min(PROVIDE_DIALS, cold.length) }, dialling)
    yield* merge(...warm.map(send), ...dialers)
    // Stopped sends end without an error of their own: the provide was cancelled, not done.
    signal.throwIfAborted()
  }

  /**
   * Stores the record locally (as kad-dht's put does) and sends PUT_VALUE to the k closest peers; `targets` is how
   * many (known once they are picked), `events` every request's events. With an empty table it is kad-dht's
   * iterative put.
   *
   * `walk`: first ask the swarm which peers are closest to the key (kad-dht's iterative FIND_NODE walk, finished
   * Kademlia's way by closest-walk.ts, its events in `events`), offer them to the table, and write to the closest of
   * the table's peers and the walk's after that (with an empty table and no walked peer the IP-diversity filter
   * admits, kad-dht's iterative put here too, which has no filter: a peer with nothing in its table has no honest
   * peers to prefer anyway). A table that lacks some of the peers closest to the key (one still filling, or missing
   * peers that joined since its last crawl) puts the record beside them rather than on them, where a lookup that
   * walks towards the key does not pass; a republish and a repair, which exist to put the record back where lookups
   * look, walk first. A user's put does not: it is the latency-bound path, and the walk costs 20-40 requests (up to
   * 3k more when it must be finished).
   */
  putValue(
    dhtKey: Uint8Array,
    value: Uint8Array,
    options: OneRoundOptions & { walk?: boolean }
  ): { readonly targets: number; events: AsyncIterable<RoundEvent> } {
    const { walk = false, ...rest } = options
    if (!walk) return this.writeToClosest(dhtKey, value, rest)
    let targets = 0
    const walked = async function* (self: OneRoundLookups): AsyncGenerator<RoundEvent> {
      let found: PeerId[] = []
      try {
        found = yield* walkToClosest(dhtKey, { dht: self.dht, self: self.self, signal: rest.signal })
      } catch (err) {
        // A walk that fails still leaves the table's closest to write to; a put that was stopped stops.
        if (rest.signal.aborted) throw err
      }
      // The k closest peers that answered the walk are offered to the table through its one door (the IP-diversity
      // filter; the contact check, which passes: the walk has just spoken to them), so it holds the closest peers it
      // lacked.
      // Bounded: adding to a full bucket pings its oldest contacts first.
      await Promise.race([
        Promise.allSettled(found.map((peer) => self.table.add(peer, { signal: rest.signal }))),
        delay(ROUND_TIMEOUT_MS, rest.signal)
      ])
      rest.signal.throwIfAborted()
      // The writes go to the closest of the table's peers and the walk's, as kad-dht's put writes to its walk's:
      // a walked peer the table has not taken (its bucket full of live contacts, or an add still waiting on that
      // bucket's pings) is still among the closest live peers, where lookups look. Not more of one address group
      // than the door would let in (the places the table's own adds have taken first, then the nearest newcomers): a
      // republish must not hand a key's replicas to Sybils the table refuses.
      const key = kadIdOfKey(dhtKey)
      const nearestFirst = (peers: PeerId[], count = peers.length): PeerId[] =>
        closestOf(
          uniquePeers(peers).map((peerId) => ({ peerId, kadId: kadIdOfPeer(peerId) })),
          key,
          count
        )
      // `found` is nearest first already (the walk's result).
      const admitted = await self.admitted(found)
      rest.signal.throwIfAborted()
      const candidates = nearestFirst([...self.closest(dhtKey, self.k * 2), ...admitted], self.k * 2)
      const put = self.writeToClosest(dhtKey, value, rest, candidates)
      targets = put.targets
      yield* put.events
    }
    return {
      get targets() {
        return targets
      },
      events: walked(this)
    }
  }

  /**
   * PUT_VALUE to the k closest of `candidates` (by default the table's 2k closest), the next k as spares; kad-dht's
   * iterative put when there are none.
   */
  private writeToClosest(
    dhtKey: Uint8Array,
    value: Uint8Array,
    options: OneRoundOptions,
    candidates: PeerId[] = this.closest(dhtKey, this.k * 2)
  ): { targets: number; events: AsyncIterable<RoundEvent> } {
    const peers = candidates.slice(0, this.k)
    if (peers.length === 0) return { targets: 0, events: this.dht.put(dhtKey, value, options) }
    return {
      targets: peers.length,
      events: this.writeTo(peers, candidates.slice(this.k), dhtKey, value, options)
    }
  }

  private async *writeTo(
    peers: PeerId[],
    spares: PeerId[],
    dhtKey: Uint8Array,
    value: Uint8Array,
    options: OneRoundOptions
  ): AsyncGenerator<RoundEvent> {
    const record = new DhtRecord(dhtKey, value, new Date()).serialize()
    // kad-dht's put stores the record here before sending it; this one stores it at the same datastore key while
    // the first wave goes out, and reports no answer before the write is done, so a put that reached its quorum is
    // in this peer's store too. Awaited first, the write's completion waited behind the process's network events: 1
    // to 10 ms between a put's signature and its first request in a busy 100-peer lab.
    const stored = (async () => {
      await this.datastore.put(recordDatastoreKey(dhtKey), record)
    })()
    // Its failure fails the put (thrown below, though the first wave may hold the record by then); until then it must
    // not count as unhandled, which ends the process.
    stored.catch(() => {})
    const send = (peer: PeerId): AsyncGenerator<RoundEvent> =>
      this.ask(
        peer,
        { type: MessageType.PUT_VALUE, key: dhtKey, record },
        1,
        options.signal,
        async (event) =>
          event.name === 'PEER_RESPONSE' && (event.record == null || !equals(event.record.value, value))
            ? {
                name: 'QUERY_ERROR',
                type: EventTypes.QUERY_ERROR,
                from: peer,
                error: new Error('value not stored'),
                path: PATH
              }
            : null
      )
    // A write that fails (a peer gone since it entered the table: churn) goes to the next closest peer instead, so
    // the record still reaches k live peers. kad-dht's iterative put gets this from its lookup, which only ends on
    // peers that answered; the table this put reads may still hold dead peers. Without this, a republish whose k
    // closest had all died wrote to none of them (the likeliest cause of a churn test run in which one record was
    // found by its publisher only). Up to k spares, the next closest in the table.
    const sendOrReplace = async function* (peer: PeerId): AsyncGenerator<RoundEvent> {
      let failed = false
      for await (const event of send(peer)) {
        if (event.name === 'QUERY_ERROR') failed = true
        yield event
      }
      const spare = failed && !options.signal.aborted ? spares.shift() : undefined
      if (spare != null) yield* sendOrReplace(spare)
    }
    // The quorum is waited for; the rest are written after it. The first wave is the quorum and one to spare, peers
    // already connected first (closest first within each kind): a new connection costs tens of ms of CPU on each
    // side, and a dozen handshakes at once (the k closest are rarely connected: connections cluster near a peer's
    // own id, keys fall anywhere) held the quorum's answers up behind them; so did a dozen connected peers' answers
    // (about 2 ms of this peer's CPU each), with seven connected peers written at once the quorum came at 25 ms and
    // with three at 11. The rest follow in the background, once the first wave has answered, one of its requests
    // has failed or a round's time has passed, whichever is first (a slow first wave must not hold the rest back).
    const ordered = this.byConnection(peers).flat()
    const firstWave = ordered.slice(0, PUT_QUORUM + 1)
    let releaseRest = (): void => {}
    const answered = new Promise<void>((resolve) => (releaseRest = resolve))
    const first = async function* (): AsyncGenerator<RoundEvent> {
      for await (const event of merge(...firstWave.map(sendOrReplace))) {
        // A failure in the first wave may leave it short of the quorum: the rest are written at once.
        if (event.name === 'QUERY_ERROR') releaseRest()
        yield event
      }
      releaseRest()
    }
    const rest = async function* (): AsyncGenerator<RoundEvent> {
      const pending = ordered.slice(firstWave.length)
      if (pending.length === 0) return
      await Promise.race([answered, delay(ROUND_TIMEOUT_MS, options.signal)])
      yield* merge(...pending.map(sendOrReplace))
    }
    let written = false
    for await (const event of merge(first(), rest())) {
      if (!written && event.name === 'PEER_RESPONSE') {
        await stored
        written = true
      }
      yield event
    }
    await stored
  }

  /**
   * Asks the closest not-yet-asked peers, GET_FANOUT at a time; true once a round produced a hit. A round ends when
   * all its peers have answered, or, for a value, a grace (see HIT_GRACE_MS) after its first hit.
   */
  private async *rounds(
    key: Uint8Array,
    type: MessageType,
    options: OneRoundOptions,
    hit: (event: QueryEvent) => Promise<QueryEvent | null>
  ): AsyncGenerator<RoundEvent, boolean> {
    const asked = new Set<string>()
    // Every one of the k closest got the put, so any of them answers as well as the very closest; those already
    // connected are asked first. A new connection costs tens of ms of CPU on each side, so a lookup that must open
    // one is several times slower than one that need not (preferring connected peers among the 10 closest only,
    // as before, left a third of the gets at 100 peers dialling). Then the next k, nearest first: a table keeps
    // dead peers until something evicts them, and when the k closest it lists have all died (churn), the record
    // lives on the closest live peers, where puts and republishes put it (their failed writes go to the next
    // closest). Without them a get asked the dead and fell back to kad-dht's iterative get, which starts from the
    // same dead peers: the churn fault test (k = 4, a third of the swarm killed) failed about one run in ten under
    // load, every reader missing the keys whose 4 closest had all been killed.
    // As many as the rounds can ask, at least: with a small k (3 in a test swarm), 2k peers ran out after two rounds
    // whose peers were all dead, and the get fell back while the table still listed live peers holding the record.
    const nearest = this.closest(key, Math.max(this.k * 2, GET_FANOUT * MAX_ROUNDS))
    const candidates = [...this.byConnection(nearest.slice(0, this.k)).flat(), ...nearest.slice(this.k)]
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      const batch = candidates.filter((p) => !asked.has(p.toString())).slice(0, GET_FANOUT)
      if (batch.length === 0) return false
      batch.forEach((p) => asked.add(p.toString()))
      const enough = new AbortController()
      const signal = AbortSignal.any([options.signal, enough.signal])
      let grace: NodeJS.Timeout | undefined
      let found = false
      let requests = 0
      const started = performance.now()
      const ask = (peer: PeerId): AsyncGenerator<RoundEvent> =>
        this.ask(peer, { type, key }, round, signal, hit, enough.signal)
      const events = (
        type === MessageType.GET_VALUE ? this.hedged(batch, ask, enough.signal) : merge(...batch.map(ask))
      )[Symbol.asyncIterator]()
      // When the grace ends the round ends, without waiting for the requests still under way to unwind (a
      // stream being opened, a handshake): they are cut off, and drained in the background.
      const cut = new Promise<'cut'>((resolve) => {
        enough.signal.addEventListener('abort', () => resolve('cut'), { once: true })
      })
      try {
        for (;;) {
          const next = await Promise.race([events.next(), cut])
          if (next === 'cut' || next.done === true) break
          const event = next.value
          // Counted when a request starts (its DIAL_PEER), not when it is sent: a request still opening its
          // connection has been asked all the same.
          if (event.name === 'DIAL_PEER') requests++
          if ((event.name === 'VALUE' || event.name === 'PROVIDER') && !found) {
            found = true
            // Providers are a union: each peer of the round may know some the others do not, and they are streamed
            // as they come, so the round runs to its end. A value is one record: the grace is enough, and with no
            // other peer asked yet (the hedge has not fired) there is nothing to wait for.
            if (type === MessageType.GET_VALUE) {
              if (requests <= 1) enough.abort()
              else
                grace = setTimeout(
                  () => enough.abort(),
                  Math.min(HIT_GRACE_MS, (performance.now() - started) / 4)
                )
            }
          }
          yield event
        }
      } finally {
        clearTimeout(grace)
        enough.abort()
        void drain(events)
      }
      if (found) return true
    }
    return false
  }

  /**
   * The first peer's events and, once it is slow (the hedge delay) or has answered without a hit, the others'; all
   * at once when the first is not connected. `roundEnded`: the round has what it needs, so the others are not asked.
   */
  private async *hedged(
    [first, ...others]: PeerId[],
    ask: (peer: PeerId) => AsyncGenerator<RoundEvent>,
    roundEnded: AbortSignal
  ): AsyncGenerator<RoundEvent> {
    if (first == null) return
    // The hedge delay is drawn from connected peers' answers. A first peer that needs a new connection answers after
    // a handshake (tens of ms, far more while a swarm is forming), so waiting that delay for it only adds to the get:
    // all are asked at once, and the fastest handshake wins. (Hedging on cold peers too, a 200-peer swarm still busy
    // forming had get p50 140 and 143 ms in two runs; with this, 53 and 73 ms.)
    if (!this.connected(first)) {
      yield* merge(...[first, ...others].map(ask))
      return
    }
    const sentAt = performance.now()
    let missed = (): void => {}
    const firstMissed = new Promise<void>((resolve) => (missed = resolve))
    const firstPeer = async function* (samples: LatencySamples): AsyncGenerator<RoundEvent> {
      let hit = false
      let answered = false
      try {
        for await (const event of ask(first)) {
          // The first peer is connected here, so its answer's time (no handshake in it) is a sample.
          if (event.name === 'PEER_RESPONSE') {
            answered = true
            samples.add(performance.now() - sentAt)
          }
          if (event.name === 'VALUE') hit = true
          yield event
        }
      } finally {
        // A hit ends the round (after its grace), so the others are not needed; anything else asks them now.
        if (!hit) missed()
        // Beaten by another peer and cut off, it would have answered later than this: left out, the slow answers
        // would never count and the delay would drift down.
        if (!answered && roundEnded.aborted) samples.add(performance.now() - sentAt)
      }
    }
    const backups = async function* (hedgeMs: number): AsyncGenerator<RoundEvent> {
      if (others.length === 0) return
      await Promise.race([firstMissed, delay(hedgeMs, roundEnded)])
      if (roundEnded.aborted) return
      yield* merge(...others.map(ask))
    }
    yield* merge(firstPeer(this.firstAnswers), backups(this.hedgeDelayMs()))
  }

  /** How long a get waits for its first peer before asking the others (see HEDGE_SAMPLES). */
  private hedgeDelayMs(): number {
    const p90 = this.firstAnswers.quantile(0.9)
    return p90 == null ? HEDGE_DEFAULT_MS : Math.min(HEDGE_MAX_MS, Math.max(HEDGE_MIN_MS, p90))
  }

  /** One request's events, tagged with its round; `cutOff`: the lookup stopped waiting (not an error). */
  private async *ask(
    peer: PeerId,
    message: { type: MessageType; key: Uint8Array; record?: Uint8Array },
    round: number,
    signal: AbortSignal,
    extra: (event: QueryEvent) => Promise<QueryEvent | null>,
    cutOff?: AbortSignal
  ): AsyncGenerator<RoundEvent> {
    const limit = message.type === MessageType.PUT_VALUE ? WRITE_TIMEOUT_MS : ROUND_TIMEOUT_MS
    const timeout = AbortSignal.any([signal, AbortSignal.timeout(limit)])
    for await (const event of this.network.sendRequest(peer, message, { signal: timeout, path: PATH })) {
      if (event.name === 'QUERY_ERROR' && cutOff?.aborted === true) return
      yield { ...event, round }
      const more = await extra(event)
      if (more != null) yield { ...more, round }
    }
  }
}

/** The peers given, each once, in their first order. */
function uniquePeers(peers: PeerId[]): PeerId[] {
  return [...new Map(peers.map((p) => [p.toString(), p] as const)).values()]
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** Reads an iterator to its end, discarding what it yields (requests cut off by a round's end). */
async function drain(events: AsyncIterator<unknown>): Promise<void> {
  try {
    while ((await events.next()).done !== true);
  } catch {
    // A cut-off request's failure is not the lookup's.
  }
}
