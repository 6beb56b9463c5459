/**
 * The routing table's closest peers, found in one pass (closest-peers.ts), are the list kad-dht's own insertion list
 * gives: checked against a plain sort by XOR distance, and against kad-dht's implementation in a live swarm whose
 * small k splits the table's trie (so reading the trie directly is checked too).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { randomBytes } from 'node:crypto'
import type { PeerId } from '@libp2p/interface'
import { xorDistanceHex } from '../../../src/shared/kademlia.ts'
import { closestOf } from '../../../src/main/peer/closest-peers.ts'
import { kadIdOfPeer } from '../../../src/main/peer/kad-id.ts'
import { kadRoutingTable } from '../../../src/main/peer/routing-table-view.ts'
import type { SwarmPeer } from '../../../src/main/peer/swarm-peer.ts'
import { spawnSwarm, teardown, waitFor } from '../../helpers/swarm.ts'

const ids = (peers: PeerId[]): string[] => peers.map(String)

describe('closestOf', () => {
  it('gives the peers nearest a target by XOR distance, nearest first, without the excluded', async () => {
    const peers = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
        return { peerId, kadId: kadIdOfPeer(peerId) }
      })
    )
    for (let i = 0; i < 100; i++) {
      const target = new Uint8Array(randomBytes(32))
      // Hex distances of equal length compare as the numbers they spell.
      const reference = [...peers].sort((a, b) =>
        xorDistanceHex(a.kadId, target).localeCompare(xorDistanceHex(b.kadId, target))
      )
      for (const count of [1, 3, 20, 500]) {
        expect(ids(closestOf(peers, target, count))).toEqual(
          ids(reference.slice(0, count).map((p) => p.peerId))
        )
      }
      const exclude = reference.slice(0, 2).map((p) => p.peerId)
      expect(ids(closestOf(peers, target, 3, exclude))).toEqual(
        ids(reference.slice(2, 5).map((p) => p.peerId))
      )
    }
  })

  it('orders peers whose distances share their first 32 bits by the rest', async () => {
    const prefixes = [randomBytes(4), randomBytes(4)]
    const peers = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => ({
        peerId: peerIdFromPrivateKey(await generateKeyPair('Ed25519')),
        kadId: new Uint8Array([...prefixes[i % 2]!, ...randomBytes(28)])
      }))
    )
    for (let i = 0; i < 20; i++) {
      const target = new Uint8Array(randomBytes(32))
      const reference = [...peers].sort((a, b) =>
        xorDistanceHex(a.kadId, target).localeCompare(xorDistanceHex(b.kadId, target))
      )
      expect(ids(closestOf(peers, target, 20))).toEqual(ids(reference.slice(0, 20).map((p) => p.peerId)))
    }
  })
})

describe('in a live swarm', () => {
  let peers: SwarmPeer[] = []
  beforeAll(async () => {
    // k = 2: eight peers split the trie into several levels of buckets.
    peers = await spawnSwarm(8, { kBucketSize: 2 })
    await waitFor(() => peers.every((p) => p.oneRoundReady), 'every crawler to run once', 30_000)
  }, 60_000)
  afterAll(async () => teardown(peers))

  it("answers as kad-dht's own closestPeers would", () => {
    for (const peer of peers) {
      const table = kadRoutingTable(peer.node.services.dht)
      const kadDhts = Object.getPrototypeOf(table) as { closestPeers: typeof table.closestPeers }
      // The replacement is the table's own property; kad-dht's is still on the prototype.
      expect(table.closestPeers).not.toBe(kadDhts.closestPeers)
      expect(table.size).toBeGreaterThan(2)
      // The trie has split: its root is an inner node.
      expect('peers' in (table.kb as unknown as { root: object }).root).toBe(false)
      for (let i = 0; i < 50; i++) {
        const target = new Uint8Array(randomBytes(32))
        for (const count of [1, 3, 20]) {
          expect(ids(table.closestPeers(target, { count }))).toEqual(
            ids(kadDhts.closestPeers.call(table, target, { count }))
          )
        }
        const closest = table.closestPeers(target, { count: 1 })
        const options = { count: 3, exclude: closest }
        expect(ids(table.closestPeers(target, options))).toEqual(
          ids(kadDhts.closestPeers.call(table, target, options))
        )
        // No count: kad-dht's default, the bucket size.
        const byDefault = (table.closestPeers as (id: Uint8Array) => PeerId[])(target)
        expect(ids(byDefault)).toEqual(
          ids((kadDhts.closestPeers as (id: Uint8Array) => PeerId[]).call(table, target))
        )
      }
    }
  })
})
