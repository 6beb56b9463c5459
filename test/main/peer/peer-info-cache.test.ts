/**
 * The peer-info cache in front of a real libp2p peer store: repeated reads are served from memory, and a change the
 * store reports (an address merged in, a delete) or the end of the TTL sends the next read back to the store.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { PeerId } from '@libp2p/interface'
import { cachePeerInfo, type PeerInfoCacheStats } from '../../../src/main/peer/peer-info-cache.ts'

const TTL_MS = 300
const A1 = multiaddr('/ip4/10.0.0.1/tcp/4001')
const A2 = multiaddr('/ip4/10.0.0.2/tcp/4001')

describe('peer info cache', () => {
  let node: Libp2p
  let stats: PeerInfoCacheStats
  let other: PeerId
  const addresses = async (): Promise<string[]> =>
    (await node.peerStore.getInfo(other)).multiaddrs.map(String).sort()

  beforeEach(async () => {
    node = await createLibp2p({ start: false })
    other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    await node.peerStore.merge(other, { multiaddrs: [A1] })
  })
  afterEach(async () => {
    await node.stop()
  })

  it('serves repeated reads from memory until the TTL ends', async () => {
    stats = cachePeerInfo(node.peerStore, node, TTL_MS)
    expect(await addresses()).toEqual([String(A1)])
    expect(await addresses()).toEqual([String(A1)])
    expect(stats).toEqual({ hits: 1, misses: 1 })
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 50))
    expect(await addresses()).toEqual([String(A1)])
    expect(stats).toEqual({ hits: 1, misses: 2 })
  })

  it('reads the store again once it reports a change, or a delete', async () => {
    stats = cachePeerInfo(node.peerStore, node, TTL_MS)
    expect(await addresses()).toEqual([String(A1)])
    await node.peerStore.merge(other, { multiaddrs: [A2] })
    expect(await addresses()).toEqual([String(A1), String(A2)].sort())
    expect(stats.misses).toBe(2)
    await node.peerStore.delete(other)
    await expect(node.peerStore.getInfo(other)).rejects.toThrow()
  })

  it('does not keep a read that was under way while a change landed', async () => {
    // A store whose reads take a while to come back: the read below sees the old address, and returns after the
    // merge has landed (and been reported).
    const read = node.peerStore.getInfo.bind(node.peerStore)
    node.peerStore.getInfo = async (peerId, options) => {
      const info = await read(peerId, options)
      await new Promise((resolve) => setTimeout(resolve, 50))
      return info
    }
    stats = cachePeerInfo(node.peerStore, node, 60_000)
    const reading = node.peerStore.getInfo(other)
    await node.peerStore.merge(other, { multiaddrs: [A2] })
    expect((await reading).multiaddrs.map(String)).toEqual([String(A1)])
    expect(await addresses()).toEqual([String(A1), String(A2)].sort())
  })
})
