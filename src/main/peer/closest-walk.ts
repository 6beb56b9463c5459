/**
 * The walk towards the peers closest to a key, as republishing, repair and the replication check take it.
 *
 * kad-dht's iterative walk asks a peer an answer names only if that peer is closer to the key than the peer that
 * named it. Kademlia asks the closest peers it has heard of until the k closest of them have answered. The two
 * differ when one of the closest peers to a key is known only to peers closer still: they name it, it is farther
 * than they are, and kad-dht's walk ends without asking it. With small buckets that is common (k = 3 in a test
 * swarm: republish-walk.test.ts saw it in 2 runs of 12 under load, one of the three closest peers never
 * written). `walkToClosest` runs kad-dht's walk, then asks the closer peers it heard of and did not ask.
 */
import type { PeerId } from '@libp2p/interface'
import { MessageType, type KadDHT, type QueryEvent } from '@libp2p/kad-dht'
import merge from 'it-merge'
import { byDistanceTo, closestOf, nearestNamed } from './closest-peers.ts'
import { kadIdOfKey, kadIdOfPeer } from './kad-id.ts'
import { kadNetwork, OUTSIDE_PATHS } from './kad-network.ts'
import { kadRoutingTable } from './routing-table-view.ts'

/**
 * Passes that finish kad-dht's walk: each asks the unasked peers closer than the k-th that answered, and a pass is
 * needed only when the one before heard of closer peers still. Bounded, since answers may name peers that never
 * answer: at most k requests a pass, so 3k requests and about 15 s (REQUEST_TIMEOUT_MS each pass) at worst.
 */
const FINISH_PASSES = 3
/** How long one request of those passes may take: kad-dht's walk gives a request at least as long. */
const REQUEST_TIMEOUT_MS = 5_000

export interface WalkInit {
  dht: KadDHT
  /** This peer: never asked, whoever names it. */
  self: PeerId
  signal: AbortSignal
}

/**
 * Walks towards `dhtKey`: kad-dht's iterative FIND_NODE walk, then up to FINISH_PASSES passes asking the peers it
 * heard of that are closer than the k-th closest that answered. Yields every request's events (for traces) and
 * returns the k closest peers that answered, nearest first. A walk that fails returns what it learnt, or throws
 * when no peer answered; a stopped one throws.
 *
 * The passes ask over kad-dht's own network, as its walk does: the peers an answer names reach the peer store
 * (libp2p keeps the addresses kad-dht reports), so the next pass can dial them.
 */
export async function* walkToClosest(
  dhtKey: Uint8Array,
  { dht, self, signal }: WalkInit
): AsyncGenerator<QueryEvent, PeerId[]> {
  const frontier = new WalkFrontier(dhtKey, kadRoutingTable(dht).kBucketSize, self)
  const network = kadNetwork(dht)
  try {
    for await (const event of dht.getClosestPeers(dhtKey, { signal })) {
      frontier.observe(event)
      yield event
    }
    for (let pass = 0; pass < FINISH_PASSES; pass++) {
      // kad-dht's network reports a stopped request as a failed one, not by throwing.
      signal.throwIfAborted()
      const next = frontier.next()
      if (next.length === 0) break
      const requests = next.map((peer) =>
        network.sendRequest(
          peer,
          { type: MessageType.FIND_NODE, key: dhtKey },
          { signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]), path: OUTSIDE_PATHS }
        )
      )
      for await (const event of merge(...requests)) {
        frontier.observe(event)
        yield event
      }
    }
  } catch (err) {
    if (signal.aborted || frontier.closest().length === 0) throw err
  }
  signal.throwIfAborted()
  return frontier.closest()
}

/** A peer an answer named, and the peers whose answers named it. */
interface Heard {
  peerId: PeerId
  kadId: Uint8Array
  namers: Set<string>
}

/**
 * What a walk has learnt: the peers that answered, the peers the answers named (and who named them), the peers
 * asked or failed.
 */
export class WalkFrontier {
  private readonly answered = new Map<string, PeerId>()
  /** Each peer heard of, with the peers that named it. */
  private readonly heard = new Map<string, Heard>()
  private readonly failed = new Set<string>()
  private readonly asked = new Set<string>()
  private readonly target: Uint8Array

  constructor(
    private readonly dhtKey: Uint8Array,
    private readonly k: number,
    private readonly self: PeerId
  ) {
    this.target = kadIdOfKey(dhtKey)
  }

  /** Takes in one event of the walk: an answer to FIND_NODE, a failed request, a request sent. */
  observe(event: QueryEvent): void {
    if (event.name === 'SEND_QUERY') this.asked.add(event.to.toString())
    else if (event.name === 'QUERY_ERROR') this.failed.add(event.from.toString())
    else if (event.name === 'PEER_RESPONSE' && event.messageType === MessageType.FIND_NODE) {
      const namer = event.from.toString()
      this.answered.set(namer, event.from)
      // Of the peers an answer names, the k closest that could be asked: with an address (kad-dht's walk asks no
      // peer it has no address for, and an honest answer names k peers, each with addresses), and not this peer.
      const named = event.closer.filter((p) => !p.id.equals(this.self))
      for (const { id: peerId } of nearestNamed(named, this.dhtKey, this.k)) {
        const id = peerId.toString()
        const heard = this.heard.get(id)
        if (heard != null) heard.namers.add(namer)
        else this.heard.set(id, { peerId, kadId: kadIdOfPeer(peerId), namers: new Set([namer]) })
      }
    }
  }

  /**
   * The peers heard of and not yet asked that are closer to the key than the k-th closest peer that answered (any
   * of them while fewer than k have answered), at most k, nearest first: a walk has ended Kademlia's way when this
   * is empty. A peer asked whose request is still under way counts as asked.
   *
   * The k places are shared among the peers that named them, in turns: each namer's nearest peer not yet taken, one
   * namer after another (the namer of the nearest first), and at most half of the k for any one namer. Taken
   * nearest first overall, one answer full of made-up peers near the key would fill a pass, and two answers every
   * pass; shared, each answer that named a candidate gets its turn.
   */
  next(): PeerId[] {
    const kth = this.closest()[this.k - 1]
    const nearer = byDistanceTo(this.target)
    const bound = kth != null ? kadIdOfPeer(kth) : null
    const unasked = [...this.heard.entries()]
      .filter(([id]) => !this.asked.has(id) && !this.answered.has(id) && !this.failed.has(id))
      .map(([, entry]) => entry)
      .filter((entry) => bound == null || nearer(entry.kadId, bound) < 0)
      .sort((a, b) => nearer(a.kadId, b.kadId))
    // Each namer's candidates, nearest first; the namers in the order of their nearest candidate.
    const byNamer = new Map<string, Heard[]>()
    for (const entry of unasked) {
      for (const namer of entry.namers) {
        const list = byNamer.get(namer)
        if (list != null) list.push(entry)
        else byNamer.set(namer, [entry])
      }
    }
    const taken = new Set<Heard>()
    for (let turn = 0; turn < Math.ceil(this.k / 2); turn++) {
      for (const candidates of byNamer.values()) {
        if (taken.size === this.k) break
        const pick = candidates.find((entry) => !taken.has(entry))
        if (pick != null) taken.add(pick)
      }
    }
    return [...taken].sort((a, b) => nearer(a.kadId, b.kadId)).map((entry) => entry.peerId)
  }

  /** The k closest peers to the key that answered, nearest first: the walk's result. */
  closest(): PeerId[] {
    return closestOf(
      [...this.answered.values()].map((peerId) => ({ peerId, kadId: kadIdOfPeer(peerId) })),
      this.target,
      this.k
    )
  }
}
