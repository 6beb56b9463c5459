/**
 * Keeps a connection open to every peer of the routing table while the swarm is small enough for it.
 *
 * One-round lookups (one-round-lookups.ts) ask peers of the table directly, and a put writes to the k closest. A
 * request over an open connection costs a millisecond or two; one that has to open the connection first pays for a
 * TCP, Noise and yamux handshake (8-9 ms of CPU for both sides together between our peers, and three or four round
 * trips of wall time on a real network). Opened on demand, those handshakes fall on the lookups: a put to 20 peers
 * right after a swarm forms opens about 17 connections. Opened ahead, they are paid once, when the peer joins, a few
 * at a time, and later lookups find their peers connected. A swarm of 100 peers is 4,950 connections: on real
 * hardware under a second of one core per peer, and kept alive by a 12-byte yamux ping per connection every 10 to 15
 * s (connection-liveness.ts). A larger table than `maxPeers` is left to on-demand connections, as before.
 *
 * Of two peers that both keep a mesh, the one whose id sorts first dials, so that a pair does not open two
 * connections at once; the other dials a table peer only once it has gone `deferMs` without a connection (one that
 * keeps no mesh, such as stock kad-dht, or whose dials failed). A failed dial is tried again at the first sweep once
 * its back-off has passed (`retryMs`, doubling up to an hour); a dropped connection is redialled at the next sweep.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import { kadIdOfPeer } from './kad-id.ts'
import type { KadRoutingTable } from './routing-table-view.ts'

export interface TableMeshOptions {
  /**
   * The mesh is kept while the routing table holds at most this many peers (and at most half the connection
   * manager's limit, which swarm-peer.ts applies, so that the mesh leaves room for everything else).
   */
  maxPeers: number
  /** Dials in flight at once, so that joining does not starve the lookups. */
  concurrency: number
  /** How long a peer whose id sorts before this one's has to dial first. */
  deferMs: number
  /** How often disconnected table peers are looked for (new table entries are looked at within a second). */
  sweepMs: number
  /** The first wait before a peer whose dial failed is dialled again; it doubles with each failure, up to an hour. */
  retryMs: number
  /** How long one dial may take. */
  dialTimeoutMs: number
}

export const DEFAULT_TABLE_MESH: TableMeshOptions = {
  maxPeers: 150,
  concurrency: 2,
  deferMs: 20_000,
  sweepMs: 30_000,
  retryMs: 30_000,
  dialTimeoutMs: 5_000
}

const MAX_RETRY_MS = 3_600_000
/**
 * New table entries come in bursts while a crawl runs: a sweep at most this long after an entry, one for the burst.
 * Also how often a sweep is tried while the first crawl is still running.
 */
const SOON_MS = 1_000

export type MeshNode = Pick<Libp2p, 'peerId' | 'dial'>
/** What the mesh reads of kad-dht's routing table. */
export type MeshTable = Pick<KadRoutingTable, 'size' | 'addEventListener'> & {
  kb: Pick<KadRoutingTable['kb'], 'toIterable' | 'get'>
}

interface Backoff {
  until: number
  waitMs: number
}

export class TableMesh {
  /** Since when (monotonic ms) each table peer a sweep found unconnected has been so, for the deferral. */
  private readonly unconnectedSince = new Map<string, number>()
  private readonly backoff = new Map<string, Backoff>()
  private readonly dialling = new Set<string>()
  private queue: PeerId[] = []
  private sweepTimer: NodeJS.Timeout | undefined
  private soonTimer: NodeJS.Timeout | undefined
  private readonly self: string

  constructor(
    private readonly node: MeshNode,
    private readonly table: MeshTable,
    /** Whether this peer has an open connection to a peer (swarm-peer.ts's, shared with the crawler and lookups). */
    private readonly connected: (peerId: PeerId) => boolean,
    private readonly signal: AbortSignal,
    private readonly options: TableMeshOptions,
    /** Sweeps wait for this (the table crawler's first crawl), so that joining is not slowed by the mesh. */
    private readonly ready: () => boolean
  ) {
    this.self = node.peerId.toString()
  }

  start(): void {
    this.table.addEventListener('peer:add', () => this.sweepSoon())
    this.table.addEventListener('peer:remove', (event) => {
      const id = event.detail.toString()
      this.unconnectedSince.delete(id)
      this.backoff.delete(id)
    })
    this.sweepTimer = setInterval(() => this.sweep(), this.options.sweepMs)
    this.sweepTimer.unref()
    this.signal.addEventListener('abort', () => {
      clearInterval(this.sweepTimer)
      clearTimeout(this.soonTimer)
      this.queue = []
    })
  }

  private sweepSoon(): void {
    if (this.soonTimer != null || this.signal.aborted) return
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined
      this.sweep()
    }, SOON_MS)
    this.soonTimer.unref()
  }

  /** Whether the mesh is kept at the table's present size. */
  get active(): boolean {
    return this.table.size <= this.options.maxPeers
  }

  /** Queues a dial to each table peer that should be connected and is not; returns how many were queued. */
  sweep(now = performance.now()): number {
    if (this.signal.aborted || !this.active) return 0
    if (!this.ready()) {
      // The first crawl ends without an event: look again shortly rather than at the next sweep.
      this.sweepSoon()
      return 0
    }
    const queued = new Set(this.queue.map((p) => p.toString()))
    let added = 0
    for (const { peerId } of this.table.kb.toIterable()) {
      const id = peerId.toString()
      if (this.connected(peerId)) {
        // However it got connected (the other end, a lookup): a later drop starts afresh.
        this.unconnectedSince.delete(id)
        this.backoff.delete(id)
        continue
      }
      let since = this.unconnectedSince.get(id)
      if (since == null) this.unconnectedSince.set(id, (since = now))
      if (queued.has(id) || this.dialling.has(id)) continue
      const back = this.backoff.get(id)
      if (back != null && now < back.until) continue
      // Of two meshing peers, the one whose id sorts first dials; the other waits to see whether it does.
      if (this.self > id && now - since < this.options.deferMs) continue
      this.queue.push(peerId)
      added++
    }
    this.pump()
    return added
  }

  private pump(): void {
    // The table outgrew the mesh while dials were queued: the rest are left to the lookups that need them.
    if (!this.active) this.queue = []
    while (this.dialling.size < this.options.concurrency && this.queue.length > 0) {
      const peerId = this.queue.shift() as PeerId
      const id = peerId.toString()
      // Connected meanwhile (the other end dialled, or a lookup did), or gone from the table.
      if (this.connected(peerId) || this.table.kb.get(kadIdOfPeer(peerId)) == null) continue
      this.dialling.add(id)
      void this.dial(peerId).finally(() => {
        this.dialling.delete(id)
        this.pump()
      })
    }
  }

  private async dial(peerId: PeerId): Promise<void> {
    const id = peerId.toString()
    try {
      await this.node.dial(peerId, {
        signal: AbortSignal.any([this.signal, AbortSignal.timeout(this.options.dialTimeoutMs)])
      })
      this.backoff.delete(id)
    } catch {
      if (this.signal.aborted) return
      const waitMs = Math.min(MAX_RETRY_MS, (this.backoff.get(id)?.waitMs ?? this.options.retryMs / 2) * 2)
      this.backoff.set(id, { until: performance.now() + waitMs, waitMs })
    }
  }
}
