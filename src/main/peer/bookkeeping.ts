/**
 * What this node remembers beyond kad-dht's own records, in the same datastore under /swarm-inspector:
 *  - published/<record key>: records this node put, so it republishes them while it runs;
 *  - known-keys/<multihash>: the topic/key behind a provider CID, so provider records can be shown by name.
 */
import * as cborg from 'cborg'
import { Key, type Datastore } from 'interface-datastore'
import { toString } from 'uint8arrays'
import type { CID } from 'multiformats/cid'

const PUBLISHED = '/swarm-inspector/published'
const KNOWN_KEYS = '/swarm-inspector/known-keys'

export interface TopicKey {
  topic: string
  key: Uint8Array
}

const publishedKey = (dhtKey: Uint8Array): Key => new Key(`${PUBLISHED}/${toString(dhtKey, 'base32')}`, false)
const knownKey = (multihash: string): Key => new Key(`${KNOWN_KEYS}/${multihash}`, false)

/** Puts of one key under way together, sharing one mark (see Bookkeeping.publishing). */
interface Marking {
  puts: number
  succeeded: boolean
  /** The mark's read-then-write: whether the key was marked before these puts. */
  before: Promise<boolean>
}

export class Bookkeeping {
  /** By key (base32): the puts of it under way. */
  private readonly marking = new Map<string, Marking>()
  /** By key (base32): the last mark operation started (a mark, or one taken back), so that they apply in order. */
  private readonly lastMarkOp = new Map<string, Promise<unknown>>()

  constructor(private readonly datastore: Datastore) {}

  /**
   * Runs `put` (a put of `dhtKey` by this node) with the key marked as published, for republishing, while it runs;
   * returns its result once the mark is written too. Written after the put, the mark's LevelDB write added 0.1 to 6
   * ms to every put, its completion queued behind the process's network events. A put that fails leaves the key as
   * it found it: the mark is taken back unless the key was marked before, or another put of it that overlapped this
   * one succeeded or is still running.
   */
  async publishing<T>(dhtKey: Uint8Array, entry: TopicKey, put: () => Promise<T>): Promise<T> {
    const id = toString(dhtKey, 'base32')
    let marking = this.marking.get(id)
    if (marking == null) {
      const before = this.inOrder(id, async () => {
        const marked = await this.isPublished(dhtKey)
        if (!marked) await this.markPublished(dhtKey, entry)
        return marked
      })
      // Its failure is the put's (below); until then it must not count as unhandled.
      before.catch(() => {})
      marking = { puts: 0, succeeded: false, before }
      this.marking.set(id, marking)
    }
    const shared = marking
    shared.puts++
    try {
      const result = await put()
      shared.succeeded = true
      await shared.before
      return result
    } catch (err) {
      if (shared.puts === 1 && !shared.succeeded) {
        // Decided here, with nothing awaited since the check: a put that starts from now on marks the key anew,
        // after the mark is taken back.
        this.marking.delete(id)
        await this.inOrder(id, async () => {
          if (!(await shared.before.catch(() => true))) await this.unmarkPublished(dhtKey)
        }).catch(() => {})
      }
      throw err
    } finally {
      if (--shared.puts === 0 && this.marking.get(id) === shared) this.marking.delete(id)
    }
  }

  /** Runs `op` after the key's last mark operation has ended. */
  private inOrder<T>(id: string, op: () => Promise<T>): Promise<T> {
    const next = (this.lastMarkOp.get(id) ?? Promise.resolve()).then(op, op)
    this.lastMarkOp.set(id, next)
    const forget = (): void => {
      if (this.lastMarkOp.get(id) === next) this.lastMarkOp.delete(id)
    }
    next.then(forget, forget)
    return next
  }

  async markPublished(dhtKey: Uint8Array, entry: TopicKey): Promise<void> {
    await this.datastore.put(publishedKey(dhtKey), cborg.encode(entry))
  }

  async unmarkPublished(dhtKey: Uint8Array): Promise<void> {
    await this.datastore.delete(publishedKey(dhtKey))
  }

  async isPublished(dhtKey: Uint8Array): Promise<boolean> {
    return this.datastore.has(publishedKey(dhtKey))
  }

  async *published(): AsyncGenerator<TopicKey> {
    for await (const { value } of this.datastore.query({ prefix: PUBLISHED + '/' })) {
      const entry = decode(value)
      if (entry != null) yield entry
    }
  }

  async rememberKey(cid: CID, entry: TopicKey): Promise<void> {
    await this.datastore.put(knownKey(toString(cid.multihash.bytes, 'base32')), cborg.encode(entry))
  }

  async keyFor(multihash: string): Promise<TopicKey | null> {
    try {
      return decode(await this.datastore.get(knownKey(multihash)))
    } catch {
      return null
    }
  }
}

function decode(bytes: Uint8Array): TopicKey | null {
  try {
    const entry = cborg.decode(bytes) as Partial<TopicKey>
    return typeof entry.topic === 'string' && entry.key instanceof Uint8Array
      ? { topic: entry.topic, key: entry.key }
      : null
  } catch {
    return null
  }
}
