/**
 * Keeps libp2p's peer store in memory in front of LevelDB, and writes it back in batches.
 *
 * libp2p rewrites a peer's record far more often than it changes in substance: on both sides of every stream
 * opened (it merges the stream's protocol into the peer's record, and stamps the time), on every identify, on every
 * address a DHT answer names. On LevelDB each of those was a native write plus protobuf work; profiling one DHT
 * request between two of our peers put LevelDB writes of the peer store first among its costs. Here reads are served
 * from memory and writes are collected and flushed every few seconds, so a busy peer writes each peer's record once
 * per flush instead of once per stream.
 *
 * What can be lost is what the peer store is for, addresses and protocols learnt in the last seconds before a crash;
 * records, provider records and bookkeeping (the data users put) are not under `/peers/` and go to disk at once.
 */
import { NotFoundError, type AbortOptions } from '@libp2p/interface'
import { Key, type Datastore, type Query, type KeyQuery } from 'interface-datastore'

const PEERS_PREFIX = '/peers/'
const FLUSH_INTERVAL_MS = 5_000

export interface PeerStoreCache<D extends Datastore> {
  /** The datastore to give libp2p: everything but the peer store goes straight through. */
  datastore: D
  /** Writes the pending peer-store changes to disk (also run every few seconds); call before closing. */
  flush(): Promise<void>
  /** Stops the periodic flush and flushes. */
  close(): Promise<void>
}

export function withPeerStoreCache<D extends Datastore>(store: D): PeerStoreCache<D> {
  const cache = new Map<string, Uint8Array>()
  /** Keys changed since the last flush: the value to write, or null to delete. */
  const dirty = new Map<string, Uint8Array | null>()
  const isPeerKey = (key: Key): string | null => {
    const text = key.toString()
    return text.startsWith(PEERS_PREFIX) ? text : null
  }

  let flushing: Promise<void> = Promise.resolve()
  const flush = (): Promise<void> => {
    flushing = flushing.then(async () => {
      if (dirty.size === 0) return
      const batch = store.batch()
      for (const [text, value] of dirty) {
        if (value == null) batch.delete(new Key(text))
        else batch.put(new Key(text), value)
      }
      dirty.clear()
      await batch.commit()
    })
    return flushing
  }
  const timer = setInterval(() => void flush().catch(() => {}), FLUSH_INTERVAL_MS)
  timer.unref()

  /** A query that may cover the peer store sees it as it is in memory: flush first. */
  const coversPeers = (query: Query | KeyQuery): boolean =>
    query.prefix == null || PEERS_PREFIX.startsWith(query.prefix) || query.prefix.startsWith(PEERS_PREFIX)

  const overrides: Partial<Datastore> = {
    async get(key: Key, options?: AbortOptions) {
      const text = isPeerKey(key)
      if (text == null) return store.get(key, options)
      const hit = cache.get(text)
      if (hit != null) return hit
      if (dirty.has(text)) throw new NotFoundError(`${text} was deleted`)
      const value = await store.get(key, options)
      cache.set(text, value)
      return value
    },
    async has(key: Key, options?: AbortOptions) {
      const text = isPeerKey(key)
      if (text == null) return store.has(key, options)
      if (cache.has(text)) return true
      if (dirty.has(text)) return false
      return store.has(key, options)
    },
    async put(key: Key, value: Uint8Array, options?: AbortOptions) {
      const text = isPeerKey(key)
      if (text == null) return store.put(key, value, options)
      cache.set(text, value)
      dirty.set(text, value)
      return key
    },
    async delete(key: Key, options?: AbortOptions) {
      const text = isPeerKey(key)
      if (text == null) return store.delete(key, options)
      cache.delete(text)
      dirty.set(text, null)
    },
    query(query: Query, options?: AbortOptions) {
      if (!coversPeers(query)) return store.query(query, options)
      return (async function* () {
        await flush()
        yield* store.query(query, options)
      })()
    },
    queryKeys(query: KeyQuery, options?: AbortOptions) {
      if (!coversPeers(query)) return store.queryKeys(query, options)
      return (async function* () {
        await flush()
        yield* store.queryKeys(query, options)
      })()
    }
  }
  const datastore = new Proxy(store, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop in overrides) return overrides[prop as keyof Datastore]
      const value: unknown = Reflect.get(target, prop, receiver)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    }
  })
  return {
    datastore,
    flush,
    async close() {
      clearInterval(timer)
      await flush()
    }
  }
}
