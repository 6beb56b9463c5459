/**
 * A republish puts the record back on the peers closest to its key even when the publisher's routing table lacks
 * them (a table still filling, or missing peers that joined after its last crawl): it asks the swarm for the
 * closest peers first. A user's put writes from the table alone, and lands beside them.
 */
import { afterAll, beforeAll, expect, test } from 'vitest'
import { compare } from 'uint8arrays'
import { utf8 } from '../../../src/shared/bytes.ts'
import { xor } from '../../../src/shared/kademlia.ts'
import { DEFAULT_NAMESPACE } from '../../../src/shared/swarm-defaults.ts'
import { recordKey } from '../../../src/main/peer/dht-keys.ts'
import { kadIdOfKey, kadIdOfPeer } from '../../../src/main/peer/kad-id.ts'
import { kadRoutingTable } from '../../../src/main/peer/routing-table-view.ts'
import type { SwarmPeer } from '../../../src/main/peer/swarm-peer.ts'
import { spawnSwarm, teardown, waitFor } from '../../helpers/swarm.ts'

const N = 10
const K = 3
const TOPIC = 'walk'
const KEY = 'republished'
let peers: SwarmPeer[] = []

beforeAll(async () => {
  peers = await spawnSwarm(N, { kBucketSize: K })
  await waitFor(() => peers.every((p) => p.oneRoundReady), 'every crawler to run once', 30_000)
}, 60_000)
afterAll(async () => teardown(peers))

/** Takes peers out of a peer's routing table (they stay alive, and in everyone else's). */
async function forget(peer: SwarmPeer, gone: SwarmPeer[]): Promise<void> {
  const table = peer.node.services.dht as unknown as {
    routingTable: { remove: (id: SwarmPeer['peerId']) => Promise<void> }
  }
  for (const g of gone) await table.routingTable.remove(g.peerId)
}

const holders = async (): Promise<string[]> => {
  const out: string[] = []
  for (const peer of peers) {
    const held = await peer.records({ topic: TOPIC }, {})
    if (held.some((r) => utf8.decode(r.key) === KEY)) out.push(peer.peerId.toString())
  }
  return out
}

test('a republish finds the closest peers its table lacks and writes to them', async () => {
  const publisher = peers[0]!
  const target = kadIdOfKey(recordKey(DEFAULT_NAMESPACE, TOPIC, utf8.encode(KEY)))
  const distance = (p: SwarmPeer): Uint8Array => xor(kadIdOfPeer(p.peerId), target)
  const closest = peers
    .filter((p) => p !== publisher)
    .sort((a, b) => compare(distance(a), distance(b)))
    .slice(0, K)
  const closestIds = closest.map((p) => p.peerId.toString())

  await forget(publisher, closest)
  const put = await publisher.putRecord({ topic: TOPIC, key: KEY, value: utf8.encode('v') }, {})
  await waitFor(() => publisher.queryTrace(put.queryId)!.status !== 'running', 'the put to end')
  const sentTo = publisher
    .queryTrace(put.queryId)!
    .steps.filter((s) => s.kind === 'send')
    .map((s) => s.peerId)
  // The precondition: the put, reading the table alone, missed every one of the closest peers.
  expect(sentTo.filter((id) => closestIds.includes(id))).toEqual([])
  expect((await holders()).filter((id) => closestIds.includes(id))).toEqual([])

  // The table is still without them when the republish starts (a crawler probe may have named them since).
  await forget(publisher, closest)
  await publisher.republish()
  // The writes beyond the quorum finish in the background.
  const missing = async (): Promise<string[]> => {
    const held = await holders()
    return closestIds.filter((id) => !held.includes(id))
  }
  await waitFor(
    async () => (await missing()).length === 0,
    'the closest peers to hold the record',
    10_000
  ).catch(() => {})
  // Seen once in CI (one of the three closest without the record, 2026-12-04, not reproduced in 16 runs under load
  // since): a failure says what the republish's write did, to tell a walk that missed a peer from a table that
  // refused it (a full bucket keeps its live contacts) from a write that failed.
  const absent = await missing()
  const write = publisher.lastQuery('put')
  const inTable = new Set(
    kadRoutingTable(publisher.node.services.dht).closestPeers(target, { count: N }).map(String)
  )
  const report = JSON.stringify({
    absent,
    absentInTable: absent.filter((id) => inTable.has(id)),
    writeStatus: write?.status,
    sentTo: write?.steps.filter((s) => s.kind === 'send').map((s) => s.peerId),
    errors: write?.steps.filter((s) => s.kind === 'error').map((s) => `${s.peerId}: ${s.error}`)
  })
  expect(absent, report).toEqual([])
  // The walk's peers went back into the publisher's table, through its door.
  const table = new Set(
    kadRoutingTable(publisher.node.services.dht).closestPeers(target, { count: K }).map(String)
  )
  expect(closestIds.filter((id) => !table.has(id))).toEqual([])
}, 60_000)
