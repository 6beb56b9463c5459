/**
 * How far another peer's clock is from ours. Records carry creation times, and a peer whose clock runs ahead
 * publishes records others refuse as "from the future", so the inspector shows each peer's skew.
 *
 * A tiny protocol: the answering peer sends its clock (8 bytes, big-endian ms since the epoch) and closes. The asker
 * takes the round trip's midpoint as the moment the clock was read: skew = theirs - (sent + received) / 2.
 */
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { VIEW_WAITS_MS, WATCHED_FOR_MS, waitAtMost } from './view-waits.ts'

export const CLOCK_PROTOCOL = '/swarm-inspector/clock/1.0.0'
/**
 * How long a new connection is open before its clock is read (deferred-identify.ts's afterOpen): the reading is for
 * the UI, and read at once its stream negotiation shared the two processes with the connection's first request.
 */
export const READ_AFTER_OPEN_MS = 1_000

/** How long a peer is left alone after a failed reading: it does not speak the protocol (other software)... */
const UNSUPPORTED_RETRY_MS = 60_000
/** ...or the reading failed otherwise (the connection closed, the peer stalled), so that views do not wait on it. */
const FAILED_RETRY_MS = 10_000

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

/** Reads the clock of the peer at the other end of `connection` (over that connection, not another). */
export async function readClock(connection: Connection, signal: AbortSignal): Promise<ClockReading> {
  const sent = Date.now()
  const stream = await connection.newStream(CLOCK_PROTOCOL, { signal })
  // The signal only reaches the protocol's negotiation, and libp2p's streams have no read timeout: a peer that
  // accepts the protocol and never answers would hold this reading, and every view waiting on it, for good.
  const abort = (): void => stream.abort(new Error('no clock reading in time'))
  if (signal.aborted) abort()
  signal.addEventListener('abort', abort, { once: true })
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for await (const chunk of stream) {
      const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
      chunks.push(bytes)
      size += bytes.length
      if (size >= 8) break
    }
  } finally {
    signal.removeEventListener('abort', abort)
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

export interface ClockSkewsOptions {
  /** Each reading taken (a view may have answered without it, or not have started it). */
  onReading?: (peerId: string, reading: ClockReading) => void
  /** How long a reading stays fresh. @default 5 minutes */
  maxAgeMs?: number
  /** How long after a view new connections are read. @default WATCHED_FOR_MS */
  watchedForMs?: number
  /** How long a peer without the protocol is left alone. @default 60 s */
  unsupportedRetryMs?: number
  /** How long a peer whose reading failed otherwise is left alone (or until a new connection). @default 10 s */
  failedRetryMs?: number
}

/**
 * Keeps the latest reading per peer, taken for whoever looks: when the routing table view is built for its connected
 * peers (the view waits a moment for them), and, while the view has been asked for in the last `watchedForMs`, when a
 * connection to a table peer has been open READ_AFTER_OPEN_MS (so that the reading does not share the CPU with the
 * connection's first request, no connection is read sooner). A fresh reading (under `maxAgeMs`) is not taken again.
 * Every reading taken is reported through `onReading`: a view may have answered without it, or not have started it.
 */
export class ClockSkews {
  private readonly readings = new Map<string, { reading: ClockReading; takenAt: number }>()
  /** Until when a peer whose reading failed is left alone, and whether it lacks the protocol. */
  private readonly retryAfter = new Map<string, { until: number; unsupported: boolean }>()
  private readonly pending = new Map<string, Promise<void>>()
  /** When each connection opened (its timeline has only the raw socket's opening, on the wall clock). */
  private readonly openedAt = new WeakMap<Connection, number>()
  /** Times here are performance.now(): a step of the wall clock must not stretch or end a watch or a reading. */
  private watchedAt = Number.NEGATIVE_INFINITY

  private readonly options: Required<ClockSkewsOptions>

  constructor(
    private readonly signal: AbortSignal,
    options: ClockSkewsOptions = {}
  ) {
    this.options = {
      onReading: () => {},
      maxAgeMs: 5 * 60_000,
      watchedForMs: WATCHED_FOR_MS,
      unsupportedRetryMs: UNSUPPORTED_RETRY_MS,
      failedRetryMs: FAILED_RETRY_MS,
      ...options
    }
  }

  get(peerId: string): ClockReading | null {
    return this.readings.get(peerId)?.reading ?? null
  }

  /** A connection has just opened (libp2p's `connection:open`). */
  opened(connection: Connection): void {
    this.openedAt.set(connection, performance.now())
    // A reading that failed on the peer's last connection (it closed, say) need not keep this one from being read.
    const peerId = connection.remotePeer.toString()
    if (this.retryAfter.get(peerId)?.unsupported === false) this.retryAfter.delete(peerId)
  }

  /**
   * The routing table view is being built for these connections: read the ones open long enough without a fresh
   * reading, wait up to `waitMs` for those and for readings already under way, and read new connections for a while.
   */
  async forView(connections: Connection[], waitMs = VIEW_WAITS_MS): Promise<void> {
    this.watchedAt = performance.now()
    const waits: Promise<void>[] = []
    for (const connection of connections) {
      const openedAt = this.openedAt.get(connection)
      if (openedAt != null && performance.now() - openedAt < READ_AFTER_OPEN_MS) continue
      const reading = this.measure(connection) ?? this.pending.get(connection.remotePeer.toString())
      if (reading != null) waits.push(reading)
    }
    await waitAtMost(waits, waitMs)
  }

  /** `connection`, to a routing-table peer, has been open READ_AFTER_OPEN_MS: read it if anyone looks. */
  settled(connection: Connection): void {
    if (performance.now() - this.watchedAt <= this.options.watchedForMs) this.measure(connection)
  }

  /** Starts a reading unless one is fresh or under way, or the peer's last one failed lately; null if none started. */
  private measure(connection: Connection): Promise<void> | null {
    const peerId = connection.remotePeer.toString()
    const held = this.readings.get(peerId)
    if (
      this.signal.aborted ||
      this.pending.has(peerId) ||
      (held != null && performance.now() - held.takenAt <= this.options.maxAgeMs) ||
      performance.now() < (this.retryAfter.get(peerId)?.until ?? 0)
    )
      return null
    const taking = readClock(connection, AbortSignal.any([this.signal, AbortSignal.timeout(5_000)]))
      .then(
        (reading) => {
          this.readings.set(peerId, { reading, takenAt: performance.now() })
          this.retryAfter.delete(peerId)
          this.options.onReading(peerId, reading)
        },
        (err: Error) => {
          const unsupported = err.name === 'UnsupportedProtocolError'
          const wait = unsupported ? this.options.unsupportedRetryMs : this.options.failedRetryMs
          this.retryAfter.set(peerId, { until: performance.now() + wait, unsupported })
        }
      )
      .finally(() => this.pending.delete(peerId))
    this.pending.set(peerId, taking)
    return taking
  }
}
