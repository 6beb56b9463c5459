/**
 * A one-round put reads its k closest peers from the routing table, which may still hold peers that have died since
 * (churn). A write that fails goes to the next closest peer, so the record still reaches live peers: kad-dht's
 * iterative put gets this from its lookup, which only ends on peers that answered.
 */
import { afterAll, beforeAll, expect, test } from 'vitest'
import { utf8 } from '../../../src/shared/bytes.ts'
import type { SwarmPeer } from '../../../src/main/peer/swarm-peer.ts'
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
  const holders = []
  for (const peer of peers.filter((p) => p !== putter && !stopped.has(p))) {
    const held = await peer.records({ topic: 'churn' }, {})
    if (held.some((r) => utf8.decode(r.value) === 'after')) holders.push(peer)
  }
  expect(holders.length).toBeGreaterThan(0)
}, 60_000)
