/**
 * The table mesh: real peers end up connected to every peer of their routing tables and get a dropped connection
 * back; with a fake node and table, the rules of who dials, when, and when not.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Connection, PeerId } from '@libp2p/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { kadIdOfPeer } from '../../../src/main/peer/kad-id.ts'
import { kadRoutingTable } from '../../../src/main/peer/routing-table-view.ts'
import type { SwarmPeer } from '../../../src/main/peer/swarm-peer.ts'
import {
  DEFAULT_TABLE_MESH,
  type MeshNode,
  type MeshTable,
  TableMesh,
  type TableMeshOptions
} from '../../../src/main/peer/table-mesh.ts'
import { spawnSwarm, teardown } from '../../helpers/swarm.ts'

let swarm: SwarmPeer[] = []
afterEach(async () => teardown(swarm.splice(0)))

const tablePeers = (peer: SwarmPeer): string[] =>
  [...kadRoutingTable(peer.node.services.dht).kb.toIterable()].map((c) => c.peerId.toString())
const connectedTo = (peer: SwarmPeer, other: string): boolean =>
  peer.node.getConnections().some((c) => c.status === 'open' && c.remotePeer.toString() === other)
const unconnectedTablePeers = (peers: SwarmPeer[]): number =>
  peers.reduce((n, p) => n + tablePeers(p).filter((id) => !connectedTo(p, id)).length, 0)

describe('table mesh, real peers', () => {
  it('connects every peer to every peer of its routing table, and redials a dropped connection', async () => {
    const mesh = { sweepMs: 300, deferMs: 600, retryMs: 300 }
    const peers = (swarm = await spawnSwarm(8, { tableMesh: mesh }))
    // Every table holds the whole swarm (the crawler's job), and every table peer is connected (the mesh's).
    await expect
      .poll(() => peers.every((p) => tablePeers(p).length === peers.length - 1), { timeout: 20_000 })
      .toBe(true)
    await expect.poll(() => unconnectedTablePeers(peers), { timeout: 20_000 }).toBe(0)

    // A connection dropped by either end is opened again at a later sweep (a new connection, not the old one).
    const [a, b] = [peers[0]!, peers[1]!]
    const before = new Set(a.node.getConnections(b.node.peerId).map((c) => c.id))
    await a.node.hangUp(b.node.peerId)
    const reopened = (): boolean =>
      a.node.getConnections(b.node.peerId).some((c) => c.status === 'open' && !before.has(c.id))
    await expect.poll(reopened, { timeout: 10_000 }).toBe(true)
  }, 60_000)

  it('leaves a swarm without it connected only as its lookups need (what makes the test above able to fail)', async () => {
    const peers = (swarm = await spawnSwarm(8, { tableMesh: null }))
    await expect
      .poll(() => peers.every((p) => tablePeers(p).length === peers.length - 1), { timeout: 20_000 })
      .toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    expect(unconnectedTablePeers(peers)).toBeGreaterThan(0)
  }, 60_000)
})

/** A routing table of the given peers, and a node whose dials are recorded and answered by `answer`. */
function fakes(self: PeerId, inTable: PeerId[], answer: (peer: PeerId) => Promise<void>) {
  const listeners: Array<(event: CustomEvent<PeerId>) => void> = []
  const connected = new Set<string>()
  const dials: string[] = []
  const table: MeshTable = {
    get size() {
      return inTable.length
    },
    addEventListener: (type, listener) => {
      if (type === 'peer:add') listeners.push(listener)
    },
    kb: {
      toIterable: () => inTable.map((peerId) => ({ peerId, kadId: kadIdOfPeer(peerId), lastPing: 0 })),
      get: (kadId) => {
        const peerId = inTable.find((p) => kadIdOfPeer(p).every((byte, i) => byte === kadId[i]))
        return peerId != null ? { peerId, kadId, lastPing: 0 } : undefined
      }
    }
  }
  const node: MeshNode = {
    peerId: self,
    dial: (async (peerId: PeerId) => {
      dials.push(peerId.toString())
      await answer(peerId)
      connected.add(peerId.toString())
      return {} as Connection
    }) as MeshNode['dial']
  }
  /** A mesh over these fakes, with the default options but `over`. */
  const meshWith = (over: Partial<TableMeshOptions> = {}, ready: () => boolean = () => true): TableMesh =>
    new TableMesh(
      node,
      table,
      (peerId) => connected.has(peerId.toString()),
      new AbortController().signal,
      { ...DEFAULT_TABLE_MESH, ...over },
      ready
    )
  return { meshWith, dials, connected }
}

const newPeer = async (): Promise<PeerId> => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
/** Peer ids sorted by their text, which is the order the mesh decides who dials by. */
async function sortedPeers(n: number): Promise<PeerId[]> {
  const peers = await Promise.all(Array.from({ length: n }, newPeer))
  return peers.sort((x, y) => (x.toString() < y.toString() ? -1 : 1))
}
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20))

describe('table mesh, its rules', () => {
  it('dials at once the peers whose ids sort after its own, the others only once deferMs has passed', async () => {
    const [low, self, high] = await sortedPeers(3)
    const { meshWith, dials } = fakes(self!, [low!, high!], async () => {})
    const mesh = meshWith({ deferMs: 1_000 })
    expect(mesh.sweep(0)).toBe(1)
    await settle()
    expect(dials).toEqual([high!.toString()])
    // Not yet: the peer whose id sorts first may still dial.
    expect(mesh.sweep(999)).toBe(0)
    expect(mesh.sweep(1_000)).toBe(1)
    await settle()
    expect(dials).toEqual([high!.toString(), low!.toString()])
    // Both connected now: nothing more to dial.
    expect(mesh.sweep(5_000)).toBe(0)
  })

  it('dials nothing before it is ready, nor while the table holds more than maxPeers', async () => {
    const [self, extra, ...others] = await sortedPeers(5)
    const { meshWith, dials } = fakes(self!, others, async () => {})
    let ready = false
    const mesh = meshWith({ maxPeers: 3 }, () => ready)
    expect(mesh.active).toBe(true)
    expect(mesh.sweep(0)).toBe(0)
    // Ready, but the table has grown past the mesh's size (the sweep tried again a second later finds it so).
    ready = true
    others.push(extra!)
    await new Promise((resolve) => setTimeout(resolve, 1_200))
    expect(mesh.active).toBe(false)
    expect(mesh.sweep(0)).toBe(0)
    await settle()
    expect(dials).toEqual([])
    // Back within it.
    others.pop()
    expect(mesh.active).toBe(true)
    expect(mesh.sweep(0)).toBe(3)
  })

  it('keeps at most `concurrency` dials in flight, and drops the queue once the table outgrows the mesh', async () => {
    const [self, extra, ...others] = await sortedPeers(7)
    const release: Array<() => void> = []
    const { meshWith, dials } = fakes(
      self!,
      others,
      () => new Promise<void>((resolve) => release.push(resolve))
    )
    const mesh = meshWith({ concurrency: 2, maxPeers: 5 })
    expect(mesh.sweep(0)).toBe(5)
    await settle()
    expect(dials).toHaveLength(2)
    release.shift()!()
    await settle()
    expect(dials).toHaveLength(3)
    // The table outgrows the mesh: the dials in flight end, and no queued one starts.
    others.push(extra!)
    release.shift()!()
    await settle()
    expect(dials).toHaveLength(3)
  })

  it('sweeps again shortly while the first crawl runs, instead of at the next sweep', async () => {
    const [self, ...others] = await sortedPeers(3)
    const { meshWith, dials } = fakes(self!, others, async () => {})
    let ready = false
    const mesh = meshWith({}, () => ready)
    expect(mesh.sweep(0)).toBe(0)
    ready = true
    await expect.poll(() => dials.length, { timeout: 3_000 }).toBe(2)
  })

  it('counts the deferral and the back-off from when a peer last lost its connection', async () => {
    const [low, self] = await sortedPeers(2)
    let fail = true
    const { meshWith, dials, connected } = fakes(self!, [low!], async () => {
      if (fail) throw new Error('connection refused')
    })
    const mesh = meshWith({ deferMs: 1_000, retryMs: 60_000 })
    const t0 = performance.now()
    expect(mesh.sweep(t0)).toBe(0)
    expect(mesh.sweep(t0 + 1_000)).toBe(1)
    await settle()
    expect(dials).toHaveLength(1) // failed: backing off for a minute
    // The other end connects, and later the connection drops.
    connected.add(low!.toString())
    expect(mesh.sweep(t0 + 2_000)).toBe(0)
    connected.delete(low!.toString())
    fail = false
    // Unconnected again since now: the other end gets its deferMs again, and the old back-off is gone.
    expect(mesh.sweep(t0 + 3_000)).toBe(0)
    expect(mesh.sweep(t0 + 3_999)).toBe(0)
    expect(mesh.sweep(t0 + 4_000)).toBe(1)
    await settle()
    expect(dials).toHaveLength(2)
  })

  it('backs off from a peer whose dial failed, doubling the wait', async () => {
    const [self, other] = await sortedPeers(2)
    let fail = true
    const { meshWith, dials, connected } = fakes(self!, [other!], async () => {
      if (fail) throw new Error('connection refused')
    })
    const mesh = meshWith({ retryMs: 1_000 })
    const t0 = performance.now()
    mesh.sweep(t0)
    await settle()
    expect(dials).toHaveLength(1)
    // The back-off runs from when the dial failed (a little after t0).
    expect(mesh.sweep(t0 + 900)).toBe(0)
    expect(mesh.sweep(t0 + 1_100)).toBe(1)
    await settle()
    expect(dials).toHaveLength(2)
    // Failed again: now 2 s.
    const t1 = performance.now()
    expect(mesh.sweep(t1 + 1_500)).toBe(0)
    fail = false
    expect(mesh.sweep(t1 + 2_100)).toBe(1)
    await settle()
    expect(dials).toHaveLength(3)
    expect(connected.has(other!.toString())).toBe(true)
  })
})
