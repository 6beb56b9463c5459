/**
 * A swarm of real peers on loopback, each with its own LevelDB datastore in a temporary directory.
 */
import { createHash } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { Record as DhtRecord } from '@libp2p/kad-dht'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { utf8 } from '../../../src/shared/bytes.ts'
import type { PeerEvent } from '../../../src/shared/events.ts'
import { recordKey } from '../../../src/main/peer/dht-keys.ts'
import { sealRecord } from '../../../src/main/peer/record-envelope.ts'
import { recordDatastoreKey } from '../../../src/main/peer/record-validation.ts'
import type { SwarmDatastore } from '../../../src/main/peer/swarm-datastore.ts'
import type { SwarmPeer } from '../../../src/main/peer/swarm-peer.ts'
import { collect, spawnPeer, spawnSwarm, teardown, waitFor } from '../../helpers/swarm.ts'

const N = 8
let peers: SwarmPeer[] = []
const events: PeerEvent[][] = []

beforeAll(async () => {
  peers = await spawnSwarm(N)
  for (const [i, peer] of peers.entries()) {
    events[i] = []
    peer.subscribe((e) => events[i]!.push(e))
  }
})
afterAll(async () => teardown(peers))

const peer = (i: number): SwarmPeer => peers[i]!

describe(`a swarm of ${N} peers`, () => {
  test('a record put on one peer is readable from every other, with its publisher', async () => {
    const put = await peer(0).putRecord(
      { topic: 'charging_pause', key: 'robot-1', value: utf8.encode('1h') },
      {}
    )
    expect(put.accepted).toBeGreaterThan(0)
    const publisher = await peer(0).ownId()
    for (const other of peers.slice(1)) {
      const { record } = await other.getRecord({ topic: 'charging_pause', key: 'robot-1' }, {})
      expect(record).not.toBeNull()
      expect(utf8.decode(record!.value)).toBe('1h')
      expect(record!.publisher).toBe(publisher)
    }
    // Peers that stored it report it as stored by a remote peer.
    expect(
      events
        .slice(1)
        .some((list) => list.some((e) => e.type === 'record:stored' && e.topic === 'charging_pause'))
    ).toBe(true)
  })

  test('a missing record is null, and the lookup is traced with distances to the target', async () => {
    const { record, queryId } = await peer(3).getRecord({ topic: 'charging_pause', key: 'nobody' }, {})
    expect(record).toBeNull()
    const trace = (await peer(3).queries({}, {})).find((q) => q.id === queryId)!
    expect(trace.kind).toBe('get')
    expect(trace.status).toBe('not-found')
    expect(trace.peersAsked).toBeGreaterThan(0)
    const target = createHash('sha256')
      .update(recordKey('swarm', 'charging_pause', utf8.encode('nobody')))
      .digest('hex')
    expect(trace.target).toBe(target)
    const send = trace.steps.find((s) => s.kind === 'send')!
    const peerKad = createHash('sha256').update(peerIdFromString(send.peerId).toMultihash().bytes).digest()
    const expected = (BigInt('0x' + peerKad.toString('hex')) ^ BigInt('0x' + target))
      .toString(16)
      .padStart(64, '0')
    expect(send.distance).toBe(expected)
    expect(trace.steps.some((s) => s.kind === 'response')).toBe(true)
  })

  test('the newest record wins, and a replayed older record is refused by every peer', async () => {
    const topic = 'charging_pause'
    const key = 'robot-2'
    const dhtKey = recordKey('swarm', topic, utf8.encode(key))
    await peer(1).putRecord({ topic, key, value: utf8.encode('old') }, {})
    // Capture the old signed envelope as it travels, to replay it later.
    let oldEnvelope: Uint8Array | undefined
    for await (const e of peer(2).node.services.dht.get(dhtKey)) if (e.name === 'VALUE') oldEnvelope = e.value
    expect(oldEnvelope).toBeDefined()

    await peer(2).putRecord({ topic, key, value: utf8.encode('new') }, {})
    // Peer 5 replays the older, validly signed record straight through kad-dht: no peer accepts it.
    let acceptedReplays = 0
    for await (const e of peer(5).node.services.dht.put(dhtKey, oldEnvelope!)) {
      if (e.name === 'PEER_RESPONSE' && e.messageName === 'PUT_VALUE' && e.record != null) acceptedReplays++
    }
    expect(acceptedReplays).toBe(0)
    for (const i of [0, 3, 5, 6, 7]) {
      const { record } = await peer(i).getRecord({ topic, key }, {})
      expect(utf8.decode(record!.value)).toBe('new')
      expect(record!.publisher).toBe(await peer(2).ownId())
    }
  })

  test('provide on two peers, and getProviders from a third streams both, without duplicates', async () => {
    await peer(1).provide({ topic: 'capabilities', key: 'camera' }, {})
    await peer(4).provide({ topic: 'capabilities', key: 'camera' }, {})
    // ADD_PROVIDER is a one-way message (kad-dht writes it and does not wait for the remote to store it), so a
    // lookup in the next few milliseconds may come before the second announcement has landed: look again until then.
    const providers = [await peer(1).ownId(), await peer(4).ownId()]
    const deadline = Date.now() + 5_000
    for (;;) {
      const found = await collect(peer(6).getProviders({ topic: 'capabilities', key: 'camera' }, {}))
      const ids = found.map((p) => p.peerId)
      expect(new Set(ids).size).toBe(ids.length)
      expect(found.every((p) => p.addresses.length > 0)).toBe(true)
      if (providers.every((id) => ids.includes(id)) || Date.now() > deadline) {
        expect(ids).toEqual(expect.arrayContaining(providers))
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }

    const held = await peer(1).providerRecords({}, {})
    expect(held.provided.map((k) => k.topic)).toContain('capabilities')
    expect(held.provided[0]!.keyDisplay).toBe('camera')

    expect((await peer(4).stopProviding({ topic: 'capabilities', key: 'camera' }, {})).stopped).toBe(true)
    expect((await peer(4).providerRecords({}, {})).provided).toHaveLength(0)
    expect((await peer(4).stopProviding({ topic: 'capabilities', key: 'camera' }, {})).stopped).toBe(false)
  })

  test('every routing-table peer sits in the bucket computed independently from the XOR distance', async () => {
    for (const p of peers) {
      const view = await p.routingTable({}, {})
      expect(view.size).toBeGreaterThan(0)
      const own = BigInt('0x' + createHash('sha256').update(p.peerId.toMultihash().bytes).digest('hex'))
      for (const bucket of view.buckets) {
        for (const entry of bucket.peers) {
          const theirs = BigInt(
            '0x' +
              createHash('sha256').update(peerIdFromString(entry.peerId).toMultihash().bytes).digest('hex')
          )
          const distance = own ^ theirs
          expect(bucket.cpl).toBe(256 - distance.toString(2).length)
          expect(BigInt('0x' + entry.distance)).toBe(distance)
          expect(entry.addresses.length).toBeGreaterThan(0)
        }
      }
    }
  })

  test('the replication check finds exactly the missing and stale copies, and a repair restores them', async () => {
    const topic = 'charging_pause'
    const key = 'robot-77'
    const dhtKey = recordKey('swarm', topic, utf8.encode(key))
    await peer(0).putRecord({ topic, key, value: utf8.encode('old') }, {})
    let oldEnvelope: Uint8Array | undefined
    for await (const e of peer(0).node.services.dht.get(dhtKey)) if (e.name === 'VALUE') oldEnvelope = e.value
    await peer(0).putRecord({ topic, key, value: utf8.encode('new') }, {})

    const checker = peer(7)
    const first = await checker.checkReplication({ topic, key, kind: 'record' }, {})
    expect(first.replicas.length).toBeGreaterThanOrEqual(5)
    expect(first.replicas.every((r) => r.status === 'holder')).toBe(true)
    expect(first.newest?.publisher).toBe(peer(0).peerId.toString())

    // Break it on purpose: two holders lose the record, a third gets the older version planted.
    const byId = (id: string) => peers.find((p) => p.peerId.toString() === id)!
    const [lose1, lose2, stale] = first.replicas.map((r) => byId(r.peerId)).filter((p) => p !== peer(0))
    // (Planted first: sent on to the others, a peer with no copy would accept the old one.)
    for await (const _ of stale!.node.services.dht.put(dhtKey, oldEnvelope!)) {
      // drain: stores the old copy locally; the others, holding the newer one, refuse it
    }
    await lose1!.removeRecord({ topic, key }, {})
    await lose2!.removeRecord({ topic, key }, {})
    const broken = await checker.checkReplication({ topic, key, kind: 'record' }, {})
    const status = (p: SwarmPeer) => broken.replicas.find((r) => r.peerId === p.peerId.toString())!.status
    expect(status(lose1!)).toBe('missing')
    expect(status(lose2!)).toBe('missing')
    expect(status(stale!)).toBe('stale')
    expect(broken.replicas.filter((r) => r.status === 'holder')).toHaveLength(broken.replicas.length - 3)

    const repaired = await checker.repairReplication({ topic, key }, {})
    expect(repaired.accepted).toBeGreaterThanOrEqual(3)
    const after = await checker.checkReplication({ topic, key, kind: 'record' }, {})
    expect(after.replicas.every((r) => r.status === 'holder')).toBe(true)
    // The repair re-sent the publisher's own signed record: it is still peer 0's.
    expect(after.newest?.publisher).toBe(peer(0).peerId.toString())
  })

  test("a repair by a peer whose own copy is newer than the closest peers' sends its own copy and keeps it", async () => {
    const topic = 'charging_pause'
    const key = 'robot-78'
    const dhtKey = recordKey('swarm', topic, utf8.encode(key))
    await peer(0).putRecord({ topic, key, value: utf8.encode('old') }, {})
    // A newer version that reached only the repairing peer (another publisher's, written straight to its store).
    const repairer = peer(6)
    const privateKey = await generateKeyPair('Ed25519')
    const publisher = peerIdFromPrivateKey(privateKey).toString()
    // A second later than the put, so no tie (broken by signature bytes) can make it the older.
    const newer = await sealRecord(privateKey, publisher, dhtKey, utf8.encode('newer'), Date.now() + 1_000)
    const store = (repairer as unknown as { datastore: SwarmDatastore }).datastore
    await store.put(recordDatastoreKey(dhtKey), new DhtRecord(dhtKey, newer.bytes, new Date()).serialize())

    await repairer.repairReplication({ topic, key }, {})
    // Before, the repair sent the closest peers' older copy, which rolled this one back.
    const own = DhtRecord.deserialize(await store.get(recordDatastoreKey(dhtKey))).value
    expect(own).toEqual(newer.bytes)
    const after = await peer(7).checkReplication({ topic, key, kind: 'record' }, {})
    expect(after.newest?.publisher).toBe(publisher)
    expect(after.replicas.every((r) => r.status === 'holder')).toBe(true)
    const { record } = await peer(3).getRecord({ topic, key }, {})
    expect(utf8.decode(record!.value)).toBe('newer')
  })

  test('the replication check of providers shows which close peers hold provider records', async () => {
    await peer(2).provide({ topic: 'capabilities', key: 'thermal' }, {})
    const report = await peer(5).checkReplication(
      { topic: 'capabilities', key: 'thermal', kind: 'providers' },
      {}
    )
    const holders = report.replicas.filter((r) => r.status === 'holder')
    expect(holders.length).toBeGreaterThan(0)
    expect(holders.every((r) => r.providers?.includes(peer(2).peerId.toString()))).toBe(true)
  })

  test('each routing-table peer shows its DHT mode and, once measured, its clock skew against ours', async () => {
    const connectedIds = new Set((await peer(0).connections({}, {})).map((c) => c.peerId))
    await waitFor(async () => {
      const view = await peer(0).routingTable({}, {})
      return view.buckets
        .flatMap((b) => b.peers)
        .every((p) => !connectedIds.has(p.peerId) || p.clockSkewMs != null)
    }, 'clock readings from every connected peer')
    const entries = (await peer(0).routingTable({}, {})).buckets.flatMap((b) => b.peers)
    expect(entries.every((p) => p.dhtMode === 'server')).toBe(true)
    // Reached over loopback, on our side too, with a round-trip time.
    for (const p of entries.filter((e) => connectedIds.has(e.peerId))) {
      expect(p.latencyMs).not.toBeNull()
      expect(p.localAddress).toMatch(/^127\.0\.0\.1:\d+$/)
      expect(p.localInterface).toBe('lo')
    }
    // Same machine, same clock: the measured skew is within the round trip.
    for (const p of entries.filter((e) => e.clockSkewMs != null))
      expect(Math.abs(p.clockSkewMs!)).toBeLessThan(250)
  })

  test('connections and node info describe the node', async () => {
    const info = await peer(0).nodeInfo({}, {})
    expect(info.dhtMode).toBe('server')
    expect(info.protocol).toBe('/swarm-inspector/kad/1.0.0')
    expect(info.connections).toBeGreaterThan(0)
    expect(info.records).toBeGreaterThan(0)
    const connections = await peer(0).connections({}, {})
    expect(connections.length).toBe(info.connections)
  })
})

describe('limits', () => {
  test('provider records per key are capped', async () => {
    const host = await spawnPeer({ limits: { maxProvidersPerKey: 2 } })
    const clients = await Promise.all(
      [0, 1, 2].map(() => spawnPeer({ bootstrap: host.node.getMultiaddrs().map(String) }))
    )
    try {
      await waitFor(
        async () => (await host.routingTable({}, {})).size === 3,
        'all three in the routing table'
      )
      // ...and the host in each of theirs, so every announcement reaches it.
      await waitFor(
        async () => (await Promise.all(clients.map((c) => c.routingTable({}, {})))).every((t) => t.size >= 1),
        'the host in every client routing table'
      )
      for (const c of clients) {
        const { sentTo } = await c.provide({ topic: 'capabilities', key: 'lidar' }, {})
        expect(sentTo).toBeGreaterThan(0)
      }
      // ADD_PROVIDER has no answer: a provide returns once its messages are written, before the host has handled
      // them. Two arrive; a third, had the cap let it in, would have arrived as soon.
      const lidarProviders = async (): Promise<number> =>
        (await host.providerRecords({}, {})).held.find((k) =>
          k.providers.some((p) => clients.some((c) => c.peerId.toString() === p.peerId))
        )?.providers.length ?? 0
      await waitFor(async () => (await lidarProviders()) >= 2, 'two providers at the host')
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(await lidarProviders()).toBe(2)
    } finally {
      await teardown([host, ...clients])
    }
  })
})

describe('keeping records alive', () => {
  test('a record this node put is republished: a peer that lost its copy gets it back', async () => {
    const a = await spawnPeer({ republishIntervalMs: 500 })
    const b = await spawnPeer({ bootstrap: a.node.getMultiaddrs().map(String) })
    try {
      await waitFor(async () => (await a.routingTable({}, {})).size === 1, 'a and b to know each other')
      await a.putRecord({ topic: 'charging_pause', key: 'robot-9', value: utf8.encode('30m') }, {})
      const held = async () =>
        (await b.records({ topic: 'charging_pause' }, {})).some((r) => r.keyDisplay === 'robot-9')
      expect(await held()).toBe(true)
      expect((await b.removeRecord({ topic: 'charging_pause', key: 'robot-9' }, {})).removed).toBe(true)
      expect(await held()).toBe(false)
      await waitFor(held, 'the republished record to reach b again', 10_000)
      const mine = (await a.records({ topic: 'charging_pause' }, {})).find((r) => r.keyDisplay === 'robot-9')!
      expect(mine.mine).toBe(true)
    } finally {
      await teardown([a, b])
    }
  })

  test('a node stops republishing a key once another publisher has written a newer value', async () => {
    const a = await spawnPeer({ republishIntervalMs: 300 })
    const b = await spawnPeer({ bootstrap: a.node.getMultiaddrs().map(String) })
    try {
      await waitFor(async () => (await a.routingTable({}, {})).size === 1, 'a and b to know each other')
      await a.putRecord({ topic: 'charging_pause', key: 'robot-10', value: utf8.encode('a') }, {})
      await a.putRecord({ topic: 'charging_pause', key: 'robot-11', value: utf8.encode('still mine') }, {})
      await b.putRecord({ topic: 'charging_pause', key: 'robot-10', value: utf8.encode('b') }, {})
      const since = Date.now()
      const queriesFor = async (kind: string, key: string) =>
        (await a.queries({}, {})).filter(
          (q) => q.kind === kind && q.startedAt >= since && q.key != null && utf8.decode(q.key) === key
        )
      // Three republish rounds on a, as its own robot-11 shows (looked up, then put again, each round)...
      await waitFor(
        async () => (await queriesFor('put', 'robot-11')).length >= 3,
        'three republish rounds on a',
        10_000
      )
      // ...and in every round that started after b's write had settled, robot-10 was not put again
      // (a round already under way when b wrote may have sent a's older copy once, which peers refuse).
      const firstRound = Math.min(...(await queriesFor('put', 'robot-11')).map((q) => q.startedAt))
      expect((await queriesFor('put', 'robot-10')).filter((q) => q.startedAt > firstRound)).toEqual([])
      const held = (await a.records({ topic: 'charging_pause' }, {})).find(
        (r) => r.keyDisplay === 'robot-10'
      )!
      expect(utf8.decode(held.value)).toBe('b')
      expect(held.mine).toBe(false)
      const { record } = await b.getRecord({ topic: 'charging_pause', key: 'robot-10' }, {})
      expect(utf8.decode(record!.value)).toBe('b')
    } finally {
      await teardown([a, b])
    }
  })
})
