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
 */
import type { Connection, Libp2p } from '@libp2p/interface'

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

/** Identifies every connection `delayMs()` after it opens, if it is still open then. */
export function identifyAfterOpen(
  node: Pick<Libp2p, 'addEventListener'>,
  identifier: ConnectionIdentifier,
  delayMs: () => number = () => IDENTIFY_DELAY_MS
): void {
  // A failure is identify's own business (logged by it); the connection stays as it is, as with identify at open.
  afterOpen(node, delayMs, (connection) => void identifier.identify(connection).catch(() => {}))
}
