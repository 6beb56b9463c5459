import { createHash } from 'node:crypto'
import type { PeerId } from '@libp2p/interface'

/** sha2-256 of a DHT key: the point in the keyspace kad-dht routes it to. */
export const kadIdOfKey = (key: Uint8Array): Uint8Array =>
  new Uint8Array(createHash('sha256').update(key).digest())

const cache = new Map<string, Uint8Array>()

/** A peer's kad id (sha2-256 of its multihash), memoised because traces and views ask for it per event. */
export function kadIdOfPeer(peerId: PeerId): Uint8Array {
  const text = peerId.toString()
  let id = cache.get(text)
  if (id == null) {
    if (cache.size > 10_000) cache.clear()
    id = kadIdOfKey(peerId.toMultihash().bytes)
    cache.set(text, id)
  }
  return id
}
