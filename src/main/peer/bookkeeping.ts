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

/** Where the published mark of a DHT key is kept. */
export const publishedKey = (dhtKey: Uint8Array): Key =>
  new Key(`${PUBLISHED}/${toString(dhtKey, 'base32')}`, false)
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
  /** Open watches (see watchPuts): each collects the keys (base32) puts start on while it is open. */
  private readonly watches = new Set<Set<string>>()

  constructor(private readonly datastore: Datastore) {}

  /**
   * Runs `put` (a put of `dhtKey` by this node) with the key marked as published, for republishing, while it runs;
   * returns its result once the mark is written too. Written after the put, the mark's LevelDB write added 0.1 to 6
   * ms to every put, its completion queued behind the process's network events. A put that fails leaves the key as
   * it found it: the mark is taken back unless the key was marked before, or another put of it that overlapped this
   * one succeeded or is still running. (A take-back that fails leaves the key marked; the next republish finds no
   * copy of this peer's, and unmarks it.)
   */
  async publishing<T>(dhtKey: Uint8Array, entry: TopicKey, put: () => Promise<T>): Promise<T> {
    const id = toString(dhtKey, 'base32')
    for (const watch of this.watches) watch.add(id)
    let marking = this.marking.get(id)
    if (marking == null) {
      const before = this.inOrder(id, async () => {
        const marked = await this.isPublished(dhtKey)
        if (!marked) await this.datastore.put(publishedKey(dhtKey), cborg.encode(entry))
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
          if (!(await shared.before.catch(() => true))) await this.datastore.delete(publishedKey(dhtKey))
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

  /** Unmarks the key (the user removed the record), in order with the marks of puts under way. */
  async unmarkPublished(dhtKey: Uint8Array): Promise<void> {
    await this.inOrder(toString(dhtKey, 'base32'), async () => this.datastore.delete(publishedKey(dhtKey)))
  }

  /**
   * Starts noting the keys put from now on, until `stop()`. A republish looks each marked key up and unmarks those it
   * finds another publisher's version of; a put of the key made meanwhile (this peer's new version) keeps its mark.
   */
  watchPuts(): { stop(): void; unmarkUnlessPut(dhtKey: Uint8Array): Promise<boolean> } {
    const watch = new Set<string>()
    this.watches.add(watch)
    return {
      stop: () => void this.watches.delete(watch),
      // True when unmarked; false when a put of the key is under way or started since the watch began.
      unmarkUnlessPut: (dhtKey) => {
        const id = toString(dhtKey, 'base32')
        return this.inOrder(id, async () => {
          if (this.marking.has(id) || watch.has(id)) return false
          await this.datastore.delete(publishedKey(dhtKey))
          return true
        })
      }
    }
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
