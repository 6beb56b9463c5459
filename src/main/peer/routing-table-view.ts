/**
 * Reads kad-dht's routing table as k-buckets by common prefix length.
 *
 * kad-dht's public type exposes only the table's size, so this module is the one place that reaches into the
 * implementation (`routingTable.kb`, a prefix trie of buckets, and its `peer:add`/`peer:remove` events). It checks the
 * shape at start-up and fails loudly if a kad-dht upgrade moves it; the dependency is pinned to a minor range.
 */
import type { KadDHT } from '@libp2p/kad-dht'
import type { Connection, PeerId } from '@libp2p/interface'
import { localEndpoint } from './local-endpoint.ts'
import { commonPrefixLength, log2Distance, xorDistanceHex } from '../../shared/kademlia.ts'
import type { BucketsView, RoutingPeerView } from '../../shared/views.ts'
import { toHex } from '../../shared/bytes.ts'
import type { SwarmLibp2p } from './libp2p-node.ts'
import { kadIdOfPeer } from './kad-id.ts'
import type { ClockSkews } from './clock-skew.ts'
import type { ConnectionIdentities } from './deferred-identify.ts'

/** A contact in kad-dht's routing table. */
export interface KadContact {
  kadId: Uint8Array
  peerId: PeerId
  lastPing: number
}

/** A node of kad-dht's trie of k-buckets: a leaf holds contacts, an inner node splits on the next bit. */
type KadBucket = { peers: KadContact[] } | { left: KadBucket; right: KadBucket }

export interface KadRoutingTable {
  kBucketSize: number
  size: number
  kb: {
    root: KadBucket
    toIterable(): Iterable<KadContact>
    /** The contact of this kad id, if the table holds it. */
    get(kadId: Uint8Array): KadContact | undefined
    /** Decides whether a new contact is alive before it enters the table (kad-dht's default pings it). */
    verify(contact: { peerId: PeerId }, options?: { signal?: AbortSignal }): Promise<boolean>
  }
  /** The `count` peers of the table closest to a kad id, nearest first. */
  closestPeers(kadId: Uint8Array, options: { count: number }): PeerId[]
  /** Adds a peer (after pinging it when it is new); the one door into the table. */
  add(peerId: PeerId, options?: { signal?: AbortSignal }): Promise<void>
  find(peerId: PeerId): Promise<PeerId | undefined>
  remove(peerId: PeerId): Promise<void>
  addEventListener(type: 'peer:add' | 'peer:remove', listener: (event: CustomEvent<PeerId>) => void): void
}

export function kadRoutingTable(dht: KadDHT): KadRoutingTable {
  const table = (dht as unknown as { routingTable?: Partial<KadRoutingTable> }).routingTable
  if (
    table == null ||
    typeof table.kb?.toIterable !== 'function' ||
    typeof table.kb.root !== 'object' ||
    typeof table.kb.get !== 'function' ||
    typeof table.kb.verify !== 'function' ||
    typeof table.closestPeers !== 'function' ||
    typeof table.add !== 'function' ||
    typeof table.find !== 'function' ||
    typeof table.remove !== 'function' ||
    typeof table.addEventListener !== 'function'
  ) {
    throw new Error(
      'this version of @libp2p/kad-dht does not expose routingTable.kb; update routing-table-view.ts'
    )
  }
  return table as KadRoutingTable
}

/**
 * Every contact of the table, read from kad-dht's trie directly. Its own `toIterable` nests a generator per level of
 * the trie (up to 6), and every contact passes up through each of them: 22-28 µs for 100 contacts in a
 * microbenchmark, against 1-2 µs for this walk. Used where it runs per request (closest-peers.ts).
 */
export function tableContacts(table: KadRoutingTable): KadContact[] {
  const out: KadContact[] = []
  const walk = (bucket: KadBucket): void => {
    if ('peers' in bucket) out.push(...bucket.peers)
    else {
      walk(bucket.left)
      walk(bucket.right)
    }
  }
  walk(table.kb.root)
  return out
}

const AGENT = 'AgentVersion'

export class RoutingTableView {
  private readonly addedAt = new Map<string, number>()
  private readonly table: KadRoutingTable
  readonly ownKadId: Uint8Array

  constructor(
    private readonly node: SwarmLibp2p,
    private readonly protocol: string,
    private readonly clocks: ClockSkews,
    private readonly identities: ConnectionIdentities
  ) {
    this.table = kadRoutingTable(node.services.dht)
    this.ownKadId = kadIdOfPeer(node.peerId)
    this.table.addEventListener('peer:add', (e) => this.addedAt.set(e.detail.toString(), Date.now()))
    this.table.addEventListener('peer:remove', (e) => this.addedAt.delete(e.detail.toString()))
  }

  onChange(listener: (change: { type: 'add' | 'remove'; peerId: string; cpl: number }) => void): void {
    this.table.addEventListener('peer:add', (e) =>
      listener({ type: 'add', peerId: e.detail.toString(), cpl: this.cplOf(e.detail) })
    )
    this.table.addEventListener('peer:remove', (e) =>
      listener({ type: 'remove', peerId: e.detail.toString(), cpl: this.cplOf(e.detail) })
    )
  }

  get size(): number {
    return this.table.size
  }

  cplOf(peerId: PeerId): number {
    return commonPrefixLength(this.ownKadId, kadIdOfPeer(peerId))
  }

  /** Whether `peer` is in the routing table (as its add and remove events have it). */
  holds(peer: PeerId): boolean {
    return this.addedAt.has(peer.toString())
  }

  async view(): Promise<BucketsView> {
    const byPeer = (connections: Connection[]): Map<string, Connection> =>
      new Map(connections.map((c) => [c.remotePeer.toString(), c]))
    // Clocks are read, and this peer's own dials identified, for whoever looks (clock-skew.ts, deferred-identify.ts):
    // this view's connected peers, waiting a moment for them. The table and its connections are taken again after
    // that wait, so that the view is of its end.
    const openBefore = this.node.getConnections()
    const before = byPeer(openBefore)
    const tablePeers = new Set([...this.table.kb.toIterable()].map((e) => e.peerId.toString()))
    await Promise.all([
      this.clocks.forView([...tablePeers].flatMap((id) => before.get(id) ?? [])),
      // Every connection of a peer: one of them may have been identified already.
      this.identities.forView(openBefore.filter((c) => tablePeers.has(c.remotePeer.toString())))
    ])
    const connections = byPeer(this.node.getConnections())
    const buckets = new Map<number, RoutingPeerView[]>()
    let size = 0
    for (const entry of this.table.kb.toIterable()) {
      const id = entry.peerId.toString()
      const peer = await this.node.peerStore.get(entry.peerId).catch(() => null)
      const agentBytes = peer?.metadata.get(AGENT)
      const connection = connections.get(id)
      // Readings are shown for connected peers only.
      const clock = connection != null ? this.clocks.get(id) : null
      if (!this.addedAt.has(id)) this.addedAt.set(id, Date.now())
      const cpl = commonPrefixLength(this.ownKadId, entry.kadId)
      const view: RoutingPeerView = {
        peerId: id,
        distance: xorDistanceHex(this.ownKadId, entry.kadId),
        log2Distance: log2Distance(this.ownKadId, entry.kadId),
        connected: connection != null,
        addresses: peer?.addresses.map((a) => a.multiaddr.toString()) ?? [],
        agent: agentBytes != null ? new TextDecoder().decode(agentBytes) : null,
        protocols: peer?.protocols ?? [],
        // The clock reading's round trip: libp2p's connection monitor, which sets `rtt`, is replaced by yamux pings
        // (connection-liveness.ts) that do not; `rtt` is taken should another transport's connection set it.
        latencyMs: connection?.rtt ?? clock?.rttMs ?? null,
        addedAt: this.addedAt.get(id) ?? null,
        lastSeen: entry.lastPing > 0 ? entry.lastPing : null,
        dhtMode:
          peer == null || peer.protocols.length === 0
            ? null
            : peer.protocols.includes(this.protocol)
              ? 'server'
              : 'client',
        clockSkewMs: clock?.skewMs ?? null,
        clockReadAt: clock?.at ?? null,
        ...local(connection)
      }
      buckets.set(cpl, [...(buckets.get(cpl) ?? []), view])
      size++
    }
    return {
      ownKadId: toHex(this.ownKadId),
      k: this.table.kBucketSize,
      size,
      buckets: [...buckets.entries()]
        .sort(([a], [b]) => a - b)
        .map(([cpl, peers]) => ({ cpl, peers: peers.sort((a, b) => a.distance.localeCompare(b.distance)) }))
    }
  }
}

function local(connection: Connection | undefined): {
  localAddress: string | null
  localInterface: string | null
} {
  const endpoint = connection != null ? localEndpoint(connection) : null
  return { localAddress: endpoint?.address ?? null, localInterface: endpoint?.interface ?? null }
}
