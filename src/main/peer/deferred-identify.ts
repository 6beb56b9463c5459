/**
 * Identify runs shortly after a connection opens, not the moment it opens (and so does the clock reading, through
 * `afterOpen`).
 *
 * libp2p's identify opens a stream on every new connection, from both ends, as soon as it is up: a protocol
 * negotiation, a signed peer record built on one side and checked on the other, a peer-store merge. That is about as
 * much CPU as the Noise handshake itself, and a lookup that had to open the connection waits for its first request
 * while both identify exchanges share the two processes with it. Between two processes (12 × 12 libp2p nodes, TCP,
 * Noise, Yamux; a 100-byte request and its echo on a fresh connection, 432 connections per run, two runs each), the
 * first request's answer came at p50 13.6–14.1 ms, p90 21.9 ms with identify at once, and at p50 8.5–8.6 ms, p90
 * 16.7–17.9 ms with identify IDENTIFY_DELAY_MS later. In the swarm lab at 100 peers, one lookup at a time on a quiet
 * swarm, put p50 went from 58–64 ms to 43–54 ms, and gets that had to open a connection from 56–58 ms to 41–53 ms
 * (two runs each way, alternating).
 *
 * Nothing needs identify's answer before a connection's first request: DHT streams name their protocol themselves,
 * and what identify brings (the remote's protocols and listen addresses, which put it into kad-dht's routing table
 * through its topology; its agent, for the UI) is as good a tenth of a second later. A connection closed before then
 * is not identified at all.
 *
 * Except while this peer's routing table is empty (libp2p-node.ts passes the delay as a function): kad-dht's topology
 * hears of a peer only once identify has run on it (libp2p's registrar reacts to peer:identify), and a joining peer's
 * crawl starts from its first table entry, its bootstrap peer. Deferred then too, every join's first entry came 100 ms
 * later (236-251 ms against 141-173 ms in the lab's joins).
 *
 * And not at all, at open, on this peer's own dials to peers its routing table holds as they open (`skip`), unless
 * the table has been viewed in the last WATCHED_FOR_MS: what identify would bring is what the table has (the peer, its
 * DHT protocol, an address that works: the dial used it), and the other end still identifies this peer, which is how
 * it learns of it. Identify is about half of what a new connection costs: between 16 of our peers in one process, a
 * connection between two table peers cost a median 15.0-15.1 ms of CPU (both sides) identified from both ends and
 * 8.1-9.1 ms identified by the listener only (two runs each; README, "What each change bought"). A put dials most of
 * the k closest peers it writes to, all of them table peers. What this end does not learn is the other's agent,
 * protocols and signed listen addresses: the peer store keeps the addresses it had (those another peer named, for a
 * peer that entered the table on its word) and passes them on as before. Agent and protocols are shown only by the
 * routing table view, which identifies each connected peer none of whose connections was identified (`forView`), for
 * whoever looks, as it reads their clocks; a peer not connected while anyone looked shows what an earlier identify
 * left, if any, as a peer never connected does. Nothing else here or in kad-dht needs them: kad-dht never removes a
 * peer that drops its protocol, and reads protocols only to restore its table at start, where a DHT stream either end
 * opened has recorded the protocol already (libp2p merges each stream's protocol into the peer store). What the view
 * shows of a peer only dialled since it changed (its agent, its DHT mode) may lag until it is viewed connected.
 */
import type { Connection, Libp2p, PeerId } from '@libp2p/interface'
import { VIEW_WAITS_MS, WATCHED_FOR_MS, waitAtMost } from './view-waits.ts'

export const IDENTIFY_DELAY_MS = 100

/** What runs identify on a connection: @libp2p/identify's service, built with `runOnConnectionOpen: false`. */
export interface ConnectionIdentifier {
  identify(connection: Connection): Promise<unknown>
}

/**
 * Runs `work` on every connection once it has been open for `delayMs()` (asked as it opens; 0: at once), if it is
 * still open then. For what a connection's first request need not wait for: identify, the clock reading.
 */
export function afterOpen(
  node: Pick<Libp2p, 'addEventListener'>,
  delayMs: () => number,
  work: (connection: Connection) => void
): void {
  node.addEventListener('connection:open', ({ detail: connection }) => {
    const run = (): void => {
      if (connection.status === 'open') work(connection)
    }
    const ms = delayMs()
    if (ms <= 0) run()
    // unref: a pending run never keeps a stopping process alive.
    else setTimeout(run, ms).unref()
  })
}

/** How long after a failed identify a view may try that connection again (identify gives up after 5 s itself). */
export const FAILED_RETRY_MS = 10_000

export interface ConnectionIdentitiesOptions {
  /** How long after a view every connection is identified as it opens. @default WATCHED_FOR_MS */
  watchedForMs?: number
  /** How long a failed run stands before a view may try the connection again. @default FAILED_RETRY_MS */
  failedRetryMs?: number
}

/**
 * Identify, once per connection: `delayMs()` after it opens (if it is still open then) unless `skip` said so when it
 * opened, while nobody has viewed the routing table for WATCHED_FOR_MS; and for whoever looks at the table
 * (`forView`).
 */
export class ConnectionIdentities {
  /** Each connection's run, started at open or by a view, and whether it failed (forgotten `failedRetryMs` later). */
  private readonly runs = new WeakMap<Connection, { run: Promise<void>; failed: boolean }>()
  /** performance.now(): a step of the wall clock must not stretch or end a watch. */
  private viewedAt = Number.NEGATIVE_INFINITY
  private readonly options: Required<ConnectionIdentitiesOptions>

  constructor(
    private readonly identifier: ConnectionIdentifier,
    options: ConnectionIdentitiesOptions = {}
  ) {
    this.options = { watchedForMs: WATCHED_FOR_MS, failedRetryMs: FAILED_RETRY_MS, ...options }
  }

  /** Whether the routing table was viewed lately: then every connection is identified as it opens, as for clocks. */
  get watched(): boolean {
    return performance.now() - this.viewedAt <= this.options.watchedForMs
  }

  /** Identifies `connection` unless it has been already or is being (one run per connection, unless it failed). */
  identify(connection: Connection): Promise<void> {
    const held = this.runs.get(connection)
    if (held != null) return held.run
    // A failure changes nothing for the connection, as with identify at open; a view may try again a while later
    // (the failure may have been a busy moment's timeout).
    const entry = { run: Promise.resolve(), failed: false }
    entry.run = this.identifier.identify(connection).then(
      () => {},
      () => {
        entry.failed = true
        setTimeout(() => this.runs.delete(connection), this.options.failedRetryMs).unref()
      }
    )
    this.runs.set(connection, entry)
    return entry.run
  }

  /**
   * The routing table view is being built for the open connections of its peers: identify the peers none of whose
   * connections has been identified or is being (this peer's own dials to table peers, see `skip`) on one of them
   * not tried lately, and wait up to `waitMs` for those and for runs under way.
   */
  async forView(connections: Connection[], waitMs = VIEW_WAITS_MS): Promise<void> {
    this.viewedAt = performance.now()
    const byPeer = new Map<string, Connection[]>()
    for (const c of connections) {
      if (c.status !== 'open') continue
      const id = c.remotePeer.toString()
      byPeer.set(id, [...(byPeer.get(id) ?? []), c])
    }
    const waits: Promise<void>[] = []
    for (const peerConnections of byPeer.values()) {
      const held = peerConnections.map((c) => this.runs.get(c))
      const good = held.find((entry) => entry != null && !entry.failed)
      const untried = peerConnections.find((c) => !this.runs.has(c))
      if (good != null) waits.push(good.run)
      else if (untried != null) waits.push(this.identify(untried))
    }
    await waitAtMost(waits, waitMs)
  }
}

/**
 * Identifies every connection `delayMs()` after it opens, if it is still open then, except those `skip` names as
 * they open while the routing table is not watched. The view identifies those through what this returns.
 */
export function identifyAfterOpen(
  node: Pick<Libp2p, 'addEventListener'>,
  identifier: ConnectionIdentifier,
  delayMs: () => number = () => IDENTIFY_DELAY_MS,
  skip: (connection: Connection) => boolean = () => false
): ConnectionIdentities {
  const identities = new ConnectionIdentities(identifier)
  // Decided as the connection opens, before afterOpen's own listener (which may run at once): a dial that is what
  // puts its peer into the table (the contact check's) is to a peer the table does not hold yet, and is identified.
  const skipped = new WeakSet<Connection>()
  node.addEventListener('connection:open', ({ detail: connection }) => {
    if (skip(connection)) skipped.add(connection)
  })
  afterOpen(node, delayMs, (connection) => {
    if (identities.watched || !skipped.has(connection)) void identities.identify(connection)
  })
  return identities
}

/**
 * `skip` for `identifyAfterOpen`: this peer's own dials (outbound connections) to peers `holds` says its routing
 * table has as they open.
 */
export function ownDialsToTablePeers(holds: (peer: PeerId) => boolean): (connection: Connection) => boolean {
  return (connection) => connection.direction === 'outbound' && holds(connection.remotePeer)
}
