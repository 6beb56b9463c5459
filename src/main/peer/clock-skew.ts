/**
 * How far another peer's clock is from ours. Records carry creation times, and a peer whose clock runs ahead
 * publishes records others refuse as "from the future", so the inspector shows each peer's skew.
 *
 * A tiny protocol: the answering peer sends its clock (8 bytes, big-endian ms since the epoch) and closes. The asker
 * takes the round trip's midpoint as the moment the clock was read: skew = theirs - (sent + received) / 2.
 */
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { SwarmLibp2p } from './libp2p-node.ts'

export const CLOCK_PROTOCOL = '/swarm-inspector/clock/1.0.0'
/**
 * How long a new connection is open before its clock is read (deferred-identify.ts's afterOpen): the reading is for
 * the UI, and read at once its stream negotiation shared the two processes with the connection's first request.
 */
export const READ_AFTER_OPEN_MS = 1_000

/**
 * How long after the routing table was last viewed new connections still have their clocks read. Readings are only
 * shown there, and every new connection used to be read from both ends (a stream each, 1.2-2.2 ms of CPU per reading,
 * both sides together; README, "What each change bought"). A headless peer nobody looks at reads none.
 */
export const WATCHED_FOR_MS = 5 * 60_000

/** How long a view waits for the readings it had to start, so that an API call gets them in its answer. */
export const VIEW_WAITS_MS = 500

/** How long a peer whose reading failed (other software, without the protocol) is left alone. */
const FAILED_RETRY_MS = 60_000

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
 * Keeps the latest reading per peer. Readings are taken for whoever looks: when the routing table view asks for its
 * connected peers' (and waits a moment for them), and when a connection to a table peer opens while the view has been
 * asked for in the last `watchedForMs` (a view fetched then has answered without it; `onReading` reports it). A fresh
 * reading (under `maxAgeMs`) is not taken again, and a connection is not read until it has been open
 * READ_AFTER_OPEN_MS, so that the reading does not share the CPU with the connection's first request.
 */
export class ClockSkews {
  private readonly readings = new Map<string, ClockReading>()
  private readonly failedAt = new Map<string, number>()
  private readonly pending = new Set<string>()
  /** performance.now() of the last view: a step of the wall clock must not stretch or end the watch. */
  private watchedAt = Number.NEGATIVE_INFINITY

  constructor(
    private readonly node: SwarmLibp2p,
    private readonly signal: AbortSignal,
    /** Each reading taken after the view that asked for it had answered (the UI adds it to what it shows). */
    private readonly onReading: (peerId: string, reading: ClockReading) => void = () => {},
    private readonly maxAgeMs = 5 * 60_000,
    private readonly watchedForMs = WATCHED_FOR_MS
  ) {}

  get(peerId: string): ClockReading | null {
    return this.readings.get(peerId) ?? null
  }

  /**
   * The routing table view is being built for these connections: read the ones without a fresh reading that have
   * been open long enough, waiting up to `waitMs` for them, and read new connections for a while.
   */
  async forView(connections: Connection[], waitMs = VIEW_WAITS_MS): Promise<void> {
    this.watchedAt = performance.now()
    let answered = false
    const started: Promise<boolean>[] = []
    for (const connection of connections) {
      if (Date.now() - connection.timeline.open < READ_AFTER_OPEN_MS) continue
      const taking = this.measure(connection.remotePeer)
      if (taking == null) continue
      started.push(taking)
      // One that comes in after the view has answered is reported, as a new connection's is.
      void taking.then((taken) => {
        if (taken && answered) this.report(connection.remotePeer)
      })
    }
    if (started.length > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.all(started),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))
      ]).finally(() => clearTimeout(timer))
    }
    answered = true
  }

  /** A connection to `peer`, a routing-table peer, has been open READ_AFTER_OPEN_MS: read it if anyone looks. */
  connectionOpened(peer: PeerId): void {
    if (performance.now() - this.watchedAt > this.watchedForMs) return
    void this.measure(peer)?.then((taken) => {
      if (taken) this.report(peer)
    })
  }

  private report(peer: PeerId): void {
    const reading = this.readings.get(peer.toString())
    if (reading != null) this.onReading(peer.toString(), reading)
  }

  /** Starts a reading unless one is fresh, under way or failed lately; resolves with whether it was taken. */
  private measure(peer: PeerId): Promise<boolean> | null {
    const peerId = peer.toString()
    const reading = this.readings.get(peerId)
    const failed = this.failedAt.get(peerId)
    if (
      this.signal.aborted ||
      this.pending.has(peerId) ||
      (reading != null && Date.now() - reading.at <= this.maxAgeMs) ||
      (failed != null && performance.now() - failed < FAILED_RETRY_MS)
    )
      return null
    const taking = readClock(this.node, peer, AbortSignal.any([this.signal, AbortSignal.timeout(5_000)]))
      .then((taken) => {
        this.readings.set(peerId, taken)
        this.failedAt.delete(peerId)
        return true
      })
      .catch(() => {
        // Peers without the protocol (other software) have no reading; nor does a connection that closed meanwhile.
        if (!this.signal.aborted) this.failedAt.set(peerId, performance.now())
        return false
      })
      .finally(() => this.pending.delete(peerId))
    this.pending.add(peerId)
    return taking
  }
}
