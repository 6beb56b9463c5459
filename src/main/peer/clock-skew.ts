/**
 * How far another peer's clock is from ours. Records carry creation times, and a peer whose clock runs ahead
 * publishes records others refuse as "from the future", so the inspector shows each peer's skew.
 *
 * A tiny protocol: the answering peer sends its clock (8 bytes, big-endian ms since the epoch) and closes. The asker
 * takes the round trip's midpoint as the moment the clock was read: skew = theirs - (sent + received) / 2.
 */
import type { PeerId } from '@libp2p/interface'
import type { SwarmLibp2p } from './libp2p-node.ts'

export const CLOCK_PROTOCOL = '/swarm-inspector/clock/1.0.0'
/**
 * How long a new connection is open before its clock is read (deferred-identify.ts's afterOpen): the reading is for
 * the UI, and read at once its stream negotiation shared the two processes with the connection's first request.
 */
export const READ_AFTER_OPEN_MS = 1_000

export interface ClockReading {
  skewMs: number
  rttMs: number
  at: number
}

export async function serveClock(node: SwarmLibp2p): Promise<void> {
  await node.handle(CLOCK_PROTOCOL, async (stream) => {
    const now = new Uint8Array(8)
    new DataView(now.buffer).setBigInt64(0, BigInt(Date.now()))
    stream.send(now)
    await stream.close()
  })
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

/** Keeps the latest reading per peer, taken when a connection opens and again when it is older than `maxAgeMs`. */
export class ClockSkews {
  private readonly readings = new Map<string, ClockReading>()
  private readonly pending = new Set<string>()

  constructor(
    private readonly node: SwarmLibp2p,
    private readonly signal: AbortSignal,
    private readonly maxAgeMs = 5 * 60_000
  ) {}

  get(peerId: string): ClockReading | null {
    const reading = this.readings.get(peerId) ?? null
    if (reading == null || Date.now() - reading.at > this.maxAgeMs) this.measure(peerId)
    return reading
  }

  measure(peerId: string, peer?: PeerId): void {
    if (this.pending.has(peerId) || this.signal.aborted) return
    const connection = this.node.getConnections().find((c) => c.remotePeer.toString() === peerId)
    const target = peer ?? connection?.remotePeer
    if (target == null) return
    this.pending.add(peerId)
    readClock(this.node, target, AbortSignal.any([this.signal, AbortSignal.timeout(5_000)]))
      .then((reading) => this.readings.set(peerId, reading))
      .catch(() => {}) // peers without the protocol (other software) simply have no reading
      .finally(() => this.pending.delete(peerId))
  }
}
