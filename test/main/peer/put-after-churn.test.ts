/**
 * A one-round put reads its k closest peers from the routing table, which may still hold peers that have died since
 * (churn). A write that fails goes to the next closest peer, so the record still reaches live peers: kad-dht's
 * iterative put gets this from its lookup, which only ends on peers that answered. A one-round get from a table that
 * still lists the dead peers as the closest goes on to the next closest, as far as its rounds go, where the record
 * now lives (kad-dht's iterative get, the last resort, starts from the same dead peers and finds nothing).
 */
import { afterAll, beforeAll, expect, test } from 'vitest'
import { utf8 } from '../../../src/shared/bytes.ts'
import type { SwarmPeer } from '../../../src/main/peer/swarm-peer.ts'
import { recordKey } from '../../../src/main/peer/dht-keys.ts'
import { kadIdOfKey } from '../../../src/main/peer/kad-id.ts'
import { kadRoutingTable } from '../../../src/main/peer/routing-table-view.ts'
import { DEFAULT_NAMESPACE } from '../../../src/shared/swarm-defaults.ts'
import { spawnSwarm, teardown, waitFor } from '../../helpers/swarm.ts'

const N = 10
const K = 3
let peers: SwarmPeer[] = []
const stopped = new Set<SwarmPeer>()

beforeAll(async () => {
  peers = await spawnSwarm(N, { kBucketSize: K })
  await waitFor(() => peers.every((p) => p.oneRoundReady), 'every crawler to run once', 30_000)
}, 60_000)
afterAll(async () => teardown(peers))

test('a put whose k closest peers have died writes to the next closest instead', async () => {
  const putter = peers[0]!
  const key = 'after-churn'
  const first = await putter.putRecord({ topic: 'churn', key, value: utf8.encode('before') }, {})
  await waitFor(() => putter.queryTrace(first.queryId)!.status !== 'running', 'the first put to end')
  // The first put wrote to the putter's k closest peers for the key; they all die, and stay in its table.
  const closest = new Set(
    putter
      .queryTrace(first.queryId)!
      .steps.filter((s) => s.kind === 'send')
      .map((s) => s.peerId)
  )
  expect(closest.size).toBe(K)
  for (const peer of peers.filter((p) => closest.has(p.peerId.toString()))) {
    stopped.add(peer)
    await peer.stop()
  }

  const second = await putter.putRecord({ topic: 'churn', key, value: utf8.encode('after') }, {})
  await waitFor(
    () => putter.queryTrace(second.queryId)!.status !== 'running',
    'the second put to end',
    20_000
  )
  expect(second.accepted).toBeGreaterThan(0)
  const holders: SwarmPeer[] = []
  for (const peer of peers.filter((p) => p !== putter && !stopped.has(p))) {
    const held = await peer.records({ topic: 'churn' }, {})
    if (held.some((r) => utf8.decode(r.value) === 'after')) holders.push(peer)
  }
  expect(holders.length).toBeGreaterThan(0)
}, 60_000)

test('a get whose 2k closest peers have died asks on, as far as its rounds go, where the record lives', async () => {
  const alive = (): SwarmPeer[] => peers.filter((p) => !stopped.has(p))
  const closestTo = (peer: SwarmPeer, key: string, count: number): string[] =>
    kadRoutingTable(peer.node.services.dht)
      .closestPeers(kadIdOfKey(recordKey(DEFAULT_NAMESPACE, 'churn', utf8.encode(key))), { count })
      .map(String)
  // A reader and a key where the reader's table lists a live peer after its 2k closest; every live peer among
  // those 2k is stopped here (some died in the first test already). That live peer puts the record, so holds it.
  // The get's first two rounds find only the dead; a third must go past 2k.
  const liveIds = new Set(alive().map((p) => p.peerId.toString()))
  const keys = Array.from({ length: 100 }, (_, i) => `get-after-churn-${i}`)
  const pick = alive()
    .flatMap((reader) => keys.map((key) => ({ reader, key, order: closestTo(reader, key, 3 * K) })))
    .map(({ reader, key, order }) => ({
      reader,
      key,
      doomed: order.slice(0, 2 * K),
      holder: order.slice(2 * K).find((id) => liveIds.has(id))
    }))
    .find(({ doomed, holder }) => doomed.length === 2 * K && holder != null)
  expect(pick, 'a reader and key with a live peer after 2k in its table').toBeDefined()
  const { reader, key, doomed, holder } = pick!
  for (const peer of alive().filter((p) => doomed.includes(p.peerId.toString()))) {
    stopped.add(peer)
    await peer.stop()
  }
  const putter = peers.find((p) => p.peerId.toString() === holder)!
  const put = await putter.putRecord({ topic: 'churn', key, value: utf8.encode('survived') }, {})
  await waitFor(() => putter.queryTrace(put.queryId)!.status !== 'running', 'the put to end', 20_000)
  // The reader reads from the network, not from a copy of its own; its table still lists the dead as the closest.
  await reader.removeRecord({ topic: 'churn', key: utf8.encode(key) }, {})
  expect(closestTo(reader, key, 2 * K)).toEqual(doomed)

  const got = await reader.getRecord({ topic: 'churn', key: utf8.encode(key) }, {})
  expect(got.record == null ? null : utf8.decode(got.record.value)).toBe('survived')
}, 60_000)
