/**
 * The table crawler and the one-round lookups it makes possible, on a swarm of real peers that join through one
 * bootstrap peer and are never dialled to each other by the test.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { utf8 } from '../../../src/shared/bytes.ts'
import { kadRoutingTable } from '../../../src/main/peer/routing-table-view.ts'
import type { SwarmPeer } from '../../../src/main/peer/swarm-peer.ts'
import { GET_FANOUT, PUT_QUORUM } from '../../../src/main/peer/one-round-lookups.ts'
import { spawnPeer, teardown, waitFor } from '../../helpers/swarm.ts'

const N = 16
let peers: SwarmPeer[] = []
const table = (p: SwarmPeer) => kadRoutingTable(p.node.services.dht)

beforeAll(async () => {
  const seed = await spawnPeer()
  const bootstrap = seed.node.getMultiaddrs().map(String)
  peers = [seed, ...(await Promise.all(Array.from({ length: N - 1 }, () => spawnPeer({ bootstrap }))))]
}, 60_000)
afterAll(async () => teardown(peers))

describe(`${N} peers joining through one bootstrap peer`, () => {
  test('the crawler fills every table with the whole swarm, taking peers on the word of those that named them', async () => {
    await waitFor(
      () => peers.every((p) => table(p).size === N - 1),
      'every table to hold the whole swarm',
      50_000
    )
    await waitFor(() => peers.every((p) => p.oneRoundReady), 'every crawler to settle', 30_000)
    // Peers named in crawl answers enter the table without a dial: some table entries have no connection behind
    // them (were every new contact dialled first, as kad-dht does, each entry would have one).
    const undialled = peers.flatMap((p) =>
      [...table(p).kb.toIterable()].filter(({ peerId }) => p.node.getConnections(peerId).length === 0)
    )
    expect(undialled.length).toBeGreaterThan(0)
  }, 90_000)

  test(`a get from a full table asks at most ${GET_FANOUT} peers, in one round`, async () => {
    const put = await peers[1]!.putRecord({ topic: 'one-round', key: 'get', value: utf8.encode('found') }, {})
    // The put returned at its quorum; the claim is about a record the k closest all hold.
    await waitFor(
      () => peers[1]!.queryTrace(put.queryId)!.status !== 'running',
      'the put to reach every target'
    )
    const { record, queryId } = await peers[9]!.getRecord({ topic: 'one-round', key: 'get' }, {})
    expect(utf8.decode(record!.value)).toBe('found')
    const sends = peers[9]!.queryTrace(queryId)!.steps.filter((s) => s.kind === 'send')
    expect(sends.length).toBeGreaterThan(0)
    expect(sends.length).toBeLessThanOrEqual(GET_FANOUT)
    expect(sends.every((s) => s.round === 1)).toBe(true)
  })

  test(`a put returns once ${PUT_QUORUM} peers confirm it; the other sends finish in the background`, async () => {
    const put = await peers[2]!.putRecord({ topic: 'one-round', key: 'put', value: utf8.encode('v') }, {})
    expect(put.accepted).toBe(PUT_QUORUM)
    expect(put.sentTo).toBe(N - 1)
    const trace = () => peers[2]!.queryTrace(put.queryId)!
    await waitFor(() => trace().status !== 'running', 'the put to finish in the background')
    expect(trace().status).toBe('ok')
    const stored = Number(/stored on (\d+) of/.exec(trace().result ?? '')?.[1])
    expect(stored).toBeGreaterThan(PUT_QUORUM)
    // Every peer the put reached now answers the get from its own copy or a neighbour's.
    for (const p of peers) {
      const { record } = await p.getRecord({ topic: 'one-round', key: 'put' }, {})
      expect(record).not.toBeNull()
    }
  })
})
