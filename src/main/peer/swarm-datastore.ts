/**
 * The on-disk datastore (LevelDB) that holds the peer store, kad-dht's records and provider records, and our own
 * bookkeeping. It sees every write kad-dht makes, which is the one place to
 *  - cap provider records per key (stock kad-dht keeps every provider it is sent),
 *  - report records and provider records as they are stored (including those stored by remote peers), and
 *  - order the writes of one key, so that a check made before a write still holds when it lands.
 */
import { Record as DhtRecord } from '@libp2p/kad-dht'
import { LevelDatastore } from 'datastore-level'
import { equals } from 'uint8arrays'
import { Key, type Batch } from 'interface-datastore'
import { GetFailedError, NotFoundError, OpenFailedError } from 'interface-store'
import type { AbortOptions } from '@libp2p/interface'

export const DHT_PREFIX = '/dht'
const PROVIDER_PREFIX = `${DHT_PREFIX}/provider/`
const RECORD_PREFIX = `${DHT_PREFIX}/record/`

export class ProviderLimitError extends Error {
  override readonly name = 'ProviderLimitError'
}

export interface StoreObserver {
  record?(key: Key, value: Uint8Array): void
  provider?(key: Key): void
}

/** Runs against the copy held when a validated record is written; throws to refuse the write. */
export type HeldRecordCheck = (held: Uint8Array | null) => Promise<void>

export class SwarmDatastore extends LevelDatastore {
  observer: StoreObserver = {}
  /**
   * The tail of the writes under way, per record key and per provider key. A check and the write it allows must not
   * interleave with another write of the same key: kad-dht handles every stream (and every provider of one message)
   * at once, so without this
   *  - many new providers arriving together all count the same free room and all get in (seen: 81 providers held
   *    with a cap of 64, from 80 identities sending ADD_PROVIDER at once), and
   *  - a replayed copy of the record held, validated just before a newer version is written, lands on top of it
   *    (seen: 14 of 15 updates rolled back while a hostile peer re-sent the current version in a loop).
   */
  private readonly writes = new Map<string, Promise<unknown>>()
  /** Checks the validator left for the write kad-dht is about to make (see guardRecordWrite), per record key. */
  private readonly guards = new Map<string, Array<{ envelope: Uint8Array; check: HeldRecordCheck }>>()
  /**
   * Every record key found at open and every one written since: once the scan at open is done (`indexed`), a record
   * key not in it is answered "not found" without a LevelDB read. Every PUT_VALUE received reads the copy held under
   * its key twice (the validator, then the write guard), and a put of a new key finds nothing both times; so does a
   * GET_VALUE to a peer that does not hold the record. Each read is a hop through libuv's thread pool. A key is added
   * before its write starts (put, putMany through put, batch), also while the scan runs, and is never removed, so the
   * set is never short of a key LevelDB holds, however a write ends (an aborted write may land all the same); a key
   * whose record was deleted (removeRecord, kad-dht dropping an expired record) costs a read that finds nothing, as
   * before. The set grows with the records written, up to ~650 characters a key for the longest topic and key.
   */
  private readonly recordKeys = new Set<string>()
  private indexed = false
  /** Counts opens and closes, so that an open whose scan a close overtook does not mark the store indexed. */
  private opens = 0

  constructor(
    path: string,
    private readonly maxProvidersPerKey: number
  ) {
    super(path)
  }

  override async open(): Promise<void> {
    this.indexed = false
    const opening = ++this.opens
    await super.open()
    try {
      for await (const key of super.queryKeys({ prefix: RECORD_PREFIX })) this.recordKeys.add(key.toString())
    } catch (err) {
      await super.close().catch(() => {})
      throw new OpenFailedError(`reading the record keys held: ${String(err)}`)
    }
    // Not if the store was closed (or opened again) while the keys were read.
    if (opening === this.opens) this.indexed = true
  }

  override async close(): Promise<void> {
    this.indexed = false
    this.opens++
    await super.close()
  }

  override async get(key: Key, options?: AbortOptions): Promise<Uint8Array> {
    if (this.knownAbsent(key)) {
      // As LevelDatastore's get reports an aborted read.
      if (options?.signal?.aborted === true) throw new GetFailedError(String(options.signal.reason))
      throw new NotFoundError()
    }
    return super.get(key, options)
  }

  override async has(key: Key, options?: AbortOptions): Promise<boolean> {
    if (this.knownAbsent(key)) {
      options?.signal?.throwIfAborted()
      return false
    }
    return super.has(key, options)
  }

  override batch(): Batch {
    const batch = super.batch()
    return {
      ...batch,
      put: (key, value) => {
        this.noteRecordKey(key.toString())
        batch.put(key, value)
      }
    }
  }

  override async put(key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    const text = key.toString()
    if (text.startsWith(PROVIDER_PREFIX)) {
      return this.inOrder(key.parent().toString(), async () => {
        await this.checkProviderRoom(key, options)
        const stored = await super.put(key, value, options)
        this.observer.provider?.(key)
        return stored
      })
    }
    if (text.startsWith(RECORD_PREFIX)) {
      // Taken now, before any await: the write it was left for is the one being made in this turn.
      const check = this.takeGuard(text, value)
      return this.inOrder(text, async () => {
        if (check != null) await check(await this.get(key, options).catch(() => null))
        this.noteRecordKey(text)
        const stored = await super.put(key, value, options)
        this.observer.record?.(key, value)
        return stored
      })
    }
    return super.put(key, value, options)
  }

  /**
   * Leaves a check for the write of `envelope` under `key` that kad-dht's PUT_VALUE handler makes as soon as its
   * validator approved the record (in the same turn of the event loop). The check then runs against the copy held at
   * the time of the write, in order with every other write of the key. Checks not used by the end of the turn lapse
   * (validations on the read path are not followed by a write), so a later local write is never held to them.
   */
  guardRecordWrite(key: Key, envelope: Uint8Array, check: HeldRecordCheck): void {
    const text = key.toString()
    const entry = { envelope, check }
    this.guards.set(text, [...(this.guards.get(text) ?? []), entry])
    setImmediate(() => {
      const left = (this.guards.get(text) ?? []).filter((e) => e !== entry)
      if (left.length > 0) this.guards.set(text, left)
      else this.guards.delete(text)
    })
  }

  private takeGuard(text: string, stored: Uint8Array): HeldRecordCheck | null {
    const waiting = this.guards.get(text)
    if (waiting == null) return null
    let envelope: Uint8Array
    try {
      envelope = DhtRecord.deserialize(stored).value
    } catch {
      return null
    }
    const i = waiting.findIndex((e) => equals(e.envelope, envelope))
    if (i < 0) return null
    const [entry] = waiting.splice(i, 1)
    if (waiting.length === 0) this.guards.delete(text)
    return entry!.check
  }

  private noteRecordKey(text: string): void {
    if (text.startsWith(RECORD_PREFIX)) this.recordKeys.add(text)
  }

  /** Whether `key` names a record this store does not hold (false for any other key, or until open has read them). */
  private knownAbsent(key: Key): boolean {
    if (!this.indexed) return false
    const text = key.toString()
    return text.startsWith(RECORD_PREFIX) && !this.recordKeys.has(text)
  }

  /** Runs `write` after every earlier write of the same queue, whether those succeeded or were refused. */
  private async inOrder<T>(queue: string, write: () => Promise<T>): Promise<T> {
    const result = (this.writes.get(queue) ?? Promise.resolve()).then(write)
    const tail = result.catch(() => {})
    this.writes.set(queue, tail)
    void tail.then(() => {
      if (this.writes.get(queue) === tail) this.writes.delete(queue)
    })
    return result
  }

  /** A provider already held may refresh its record; a new one is refused once the key is full. */
  private async checkProviderRoom(key: Key, options?: AbortOptions): Promise<void> {
    if (await this.has(key, options)) return
    const keyPrefix = key.parent().toString() + '/'
    let count = 0
    for await (const _ of this.queryKeys({ prefix: keyPrefix }, options)) {
      if (++count >= this.maxProvidersPerKey) {
        throw new ProviderLimitError(
          `provider records for ${key.parent().name()} are full (${this.maxProvidersPerKey})`
        )
      }
    }
  }
}

export { Key }
