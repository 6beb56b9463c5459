/**
 * Serves the peer store's `getInfo` (a peer's id and addresses) from memory for a few seconds.
 *
 * kad-dht answers every GET_VALUE, FIND_NODE and GET_PROVIDERS with the 20 peers closest to the key that it knows,
 * and reads each of them from the peer store: a read lock (mortice, whose queue builds an AbortError, stack trace and
 * all, per lock), a datastore read and a protobuf decode, twenty times per request. Profiling 200 GET_VALUEs on a
 * reused stream between peers of a 20-peer swarm in one process put those reads at 200 ms of the 720 ms of CPU
 * both sides spent. The answers name the same few dozen peers over and over, so they are kept here.
 *
 * An entry is dropped as soon as libp2p reports the peer changed (`peer:update`, dispatched by the peer store after
 * every write that changed something, before the write returns) or deleted, and after TTL_MS in any case (the
 * peer store also ages addresses out, which it reports to no one). A peer that is not in the store is not cached.
 */
import type { Libp2pEvents, PeerId, PeerInfo, PeerStore, TypedEventTarget } from '@libp2p/interface'

/** How long a peer's addresses are served from memory without a change being reported. */
export const TTL_MS = 5_000
/** Above this many entries, expired ones are swept before another is added. */
const SWEEP_ABOVE = 1_000

export interface PeerInfoCacheStats {
  hits: number
  misses: number
}

/**
 * Puts the cache in front of `peerStore.getInfo` (and lets `delete` drop entries); returns live hit/miss counts.
 * `events` is the node, where the peer store dispatches `peer:update`.
 */
export function cachePeerInfo(
  peerStore: PeerStore,
  events: TypedEventTarget<Libp2pEvents>,
  ttlMs = TTL_MS
): PeerInfoCacheStats {
  const entries = new Map<string, { info: PeerInfo; until: number }>()
  const stats: PeerInfoCacheStats = { hits: 0, misses: 0 }
  // Counts changes, so that a read that was under way while one landed is not cached (it may predate it).
  let changes = 0
  const drop = (peerId: PeerId): void => {
    changes++
    entries.delete(peerId.toString())
  }
  events.addEventListener('peer:update', (event) => drop(event.detail.peer.id))

  const getInfo = peerStore.getInfo.bind(peerStore)
  peerStore.getInfo = async (peerId: PeerId, options) => {
    const key = peerId.toString()
    const now = Date.now()
    const held = entries.get(key)
    if (held != null && held.until > now) {
      stats.hits++
      return held.info
    }
    stats.misses++
    const before = changes
    const info = await getInfo(peerId, options)
    if (changes !== before) return info
    if (entries.size >= SWEEP_ABOVE) for (const [k, e] of entries) if (e.until <= now) entries.delete(k)
    entries.set(key, { info, until: now + ttlMs })
    return info
  }

  const remove = peerStore.delete.bind(peerStore)
  peerStore.delete = async (peerId: PeerId, options) => {
    drop(peerId)
    await remove(peerId, options)
    drop(peerId)
  }
  return stats
}
