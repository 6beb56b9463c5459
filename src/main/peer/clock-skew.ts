/**
 * How far another peer's clock is from ours. Records carry creation times, and a peer whose clock runs ahead
 * publishes records others refuse as "from the future", so the inspector shows each peer's skew.
 *
 * A tiny protocol: the answering peer sends its clock (8 bytes, big-endian ms since the epoch) and closes. The asker
 * takes the round trip's midpoint as the moment the clock was read: skew = theirs - (sent + received) / 2.
 */
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { SwarmLibp2p } from './libp2p-node.ts'

export const CLOCK_PROTOCOL = '/swarm-inspector/clock/1.0.0'
/**
 * How long a new connection is open before its clock is read (deferred-identify.ts's afterOpen): the reading is for
 * the UI, and read at once its stream negotiation shared the two processes with the connection's first request.
 */
export const READ_AFTER_OPEN_MS = 1_000

/**
 * How long after the routing table was last viewed new connections still have their clocks read. Readings are only
 * shown there, and a new connection was read from both ends: two streams of 1.2-2.2 ms of CPU each (both sides
 * together), about a tenth of what the connection costs (README, "What each change bought"). A headless peer nobody
 * looks at reads none.
 */
export const WATCHED_FOR_MS = 5 * 60_000

export interface ClockReading {
  skewMs: number
  rttMs: number
  at: number
}

export async function serveClock(node: Pick<Libp2p, 'handle'>): Promise<void> {
  await node.handle(CLOCK_PROTOCOL, answerClock)
}

/** Answers one clock reading on `stream`: 8 bytes, then the stream closes. */
export async function answerClock(stream: Stream): Promise<void> {
  const now = new Uint8Array(8)
  new DataView(now.buffer).setBigInt64(0, BigInt(Date.now()))
  stream.send(now)
  await stream.close()
}

export async function readClock(node: SwarmLibp2p, peer: PeerId, signal: AbortSignal): Promise<ClockReading> {
  const sent = Date.now()
  const stream = await node.dialProtocol(peer, CLOCK_PROTOCOL, { signal })
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of stream) {
    const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
    chunks.push(bytes)
    size += bytes.length
    if (size >= 8) break
  }
  const received = Date.now()
  await stream.close().catch(() => {})
  if (size < 8) throw new Error('the peer closed before sending its clock')
  const all = new Uint8Array(size)
  let offset = 0
  for (const c of chunks) {
    all.set(c, offset)
    offset += c.length
  }
  const theirs = Number(new DataView(all.buffer).getBigInt64(0))
  return { skewMs: Math.round(theirs - (sent + received) / 2), rttMs: received - sent, at: received }
}

/**
 * Keeps the latest reading per connected peer. A peer is read when the routing table view asks for it and its
 * reading is missing or older than `maxAgeMs`, and when a connection to it opens while the view has been asked for in
 * the last `watchedForMs` (so that the table, refreshed on the connection, shows it), unless its reading is fresh.
 */
export class ClockSkews {
  private readonly readings = new Map<string, ClockReading>()
  private readonly pending = new Set<string>()
  private watchedAt = Number.NEGATIVE_INFINITY

  constructor(
    private readonly node: SwarmLibp2p,
    private readonly signal: AbortSignal,
    /** Each reading as it comes in (the view that asked for it has already been answered without it). */
    private readonly onReading: (peerId: string, reading: ClockReading) => void = () => {},
    private readonly maxAgeMs = 5 * 60_000,
    private readonly watchedForMs = WATCHED_FOR_MS
  ) {}

  /** The routing table view is being looked at: read new connections' clocks for a while. */
  watch(): void {
    this.watchedAt = Date.now()
  }

  get(peerId: string): ClockReading | null {
    const reading = this.readings.get(peerId) ?? null
    if (!this.fresh(reading)) this.measure(peerId)
    return reading
  }

  /** A connection to `peer` has been open READ_AFTER_OPEN_MS: read its clock if anyone will see it. */
  connectionOpened(peer: PeerId): void {
    const peerId = peer.toString()
    if (Date.now() - this.watchedAt > this.watchedForMs || this.fresh(this.readings.get(peerId))) return
    this.measure(peerId, peer)
  }

  private fresh(reading: ClockReading | null | undefined): reading is ClockReading {
    return reading != null && Date.now() - reading.at <= this.maxAgeMs
  }

  private measure(peerId: string, peer?: PeerId): void {
    if (this.pending.has(peerId) || this.signal.aborted) return
    const connection = this.node.getConnections().find((c) => c.remotePeer.toString() === peerId)
    const target = peer ?? connection?.remotePeer
    if (target == null) return
    this.pending.add(peerId)
    readClock(this.node, target, AbortSignal.any([this.signal, AbortSignal.timeout(5_000)]))
      .then((reading) => {
        this.readings.set(peerId, reading)
        this.onReading(peerId, reading)
      })
      .catch(() => {}) // peers without the protocol (other software) simply have no reading
      .finally(() => this.pending.delete(peerId))
  }
}
