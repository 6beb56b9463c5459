/**
 * A one-round put reads its k closest peers from the routing table, which may still hold peers that have died since
 * (churn). A write that fails goes to the next closest peer, so the record still reaches live peers: kad-dht's
 * iterative put gets this from its lookup, which only ends on peers that answered. A one-round get from a table that
 * still lists the dead peers as the closest goes on to the next closest, where the record now lives (kad-dht's
 * iterative get, the last resort, starts from the same dead peers and finds nothing).
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
afterAll(async () => teardown(peers.filter((p) => !stopped.has(p))))

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

test('a get whose k closest peers have died asks the next closest, where the record now lives', async () => {
  const alive = (): SwarmPeer[] => peers.filter((p) => !stopped.has(p))
  const closestTo = (peer: SwarmPeer, key: string): string[] =>
    kadRoutingTable(peer.node.services.dht)
      .closestPeers(kadIdOfKey(recordKey(DEFAULT_NAMESPACE, 'churn', utf8.encode(key))), { count: K })
      .map(String)
  // A reader and a key whose k closest, in the reader's table, are all live (the first test stopped three peers).
  const liveIds = new Set(alive().map((p) => p.peerId.toString()))
  const keys = Array.from({ length: 100 }, (_, i) => `get-after-churn-${i}`)
  const pick = alive()
    .flatMap((reader) => keys.map((key) => ({ reader, key, doomed: closestTo(reader, key) })))
    .find(({ doomed }) => doomed.length === K && doomed.every((id) => liveIds.has(id)))
  expect(pick).toBeDefined()
  const { reader, key, doomed } = pick!
  for (const peer of peers.filter((p) => doomed.includes(p.peerId.toString()))) {
    stopped.add(peer)
    await peer.stop()
  }
  const putter = alive().find((p) => p !== reader)!
  const put = await putter.putRecord({ topic: 'churn', key, value: utf8.encode('survived') }, {})
  await waitFor(() => putter.queryTrace(put.queryId)!.status !== 'running', 'the put to end', 20_000)
  expect(put.accepted).toBeGreaterThan(0)
  // The reader reads from the network, not from a copy of its own; its table still lists the dead as the closest.
  await reader.removeRecord({ topic: 'churn', key: utf8.encode(key) }, {})
  expect(closestTo(reader, key)).toEqual(doomed)

  const got = await reader.getRecord({ topic: 'churn', key: utf8.encode(key) }, {})
  expect(got.record == null ? null : utf8.decode(got.record.value)).toBe('survived')
}, 60_000)
