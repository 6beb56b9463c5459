/**
 * Keeps libp2p's peer store records in memory in front of LevelDB (write-through).
 *
 * The peer store reads and rewrites a peer's record on every identify, every address a DHT answer names and every
 * routing-table tag; on LevelDB each of those is a native round trip plus protobuf decoding. Profiling a lab process
 * of 21 peers showed LevelDB gets as the largest single cost. Reads of `/peers/` keys are served from memory here;
 * every write still goes to disk first, so the peer store survives a restart exactly as before.
 */
import type { AbortOptions } from '@libp2p/interface'
import type { Datastore, Key } from 'interface-datastore'

const PEERS_PREFIX = '/peers/'

export function withPeerStoreCache<D extends Datastore>(store: D): D {
  const cache = new Map<string, Uint8Array>()
  const cached = (key: Key): string | null => {
    const text = key.toString()
    return text.startsWith(PEERS_PREFIX) ? text : null
  }
  const overrides: Partial<Datastore> = {
    async get(key: Key, options?: AbortOptions) {
      const text = cached(key)
      const hit = text != null ? cache.get(text) : undefined
      if (hit != null) return hit
      const value = await store.get(key, options)
      if (text != null) cache.set(text, value)
      return value
    },
    async has(key: Key, options?: AbortOptions) {
      const text = cached(key)
      if (text != null && cache.has(text)) return true
      return store.has(key, options)
    },
    async put(key: Key, value: Uint8Array, options?: AbortOptions) {
      const text = cached(key)
      // Drop the cached copy first: should the disk write fail, the next read goes to disk.
      if (text != null) cache.delete(text)
      const stored = await store.put(key, value, options)
      if (text != null) cache.set(text, value)
      return stored
    },
    async delete(key: Key, options?: AbortOptions) {
      const text = cached(key)
      if (text != null) cache.delete(text)
      await store.delete(key, options)
    }
  }
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop in overrides) return overrides[prop as keyof Datastore]
      const value: unknown = Reflect.get(target, prop, receiver)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    }
  })
}
