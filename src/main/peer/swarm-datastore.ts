/**
 * The on-disk datastore (LevelDB) that holds the peer store, kad-dht's records and provider records, and our own
 * bookkeeping. It sees every write kad-dht makes, which is the one place to
 *  - cap provider records per key (stock kad-dht keeps every provider it is sent), and
 *  - report records and provider records as they are stored (including those stored by remote peers).
 */
import { LevelDatastore } from 'datastore-level'
import { Key } from 'interface-datastore'
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

export class SwarmDatastore extends LevelDatastore {
  observer: StoreObserver = {}

  constructor(
    path: string,
    private readonly maxProvidersPerKey: number
  ) {
    super(path)
  }

  override async put(key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    const text = key.toString()
    const isProvider = text.startsWith(PROVIDER_PREFIX)
    if (isProvider) await this.checkProviderRoom(key, options)
    const stored = await super.put(key, value, options)
    if (isProvider) this.observer.provider?.(key)
    else if (text.startsWith(RECORD_PREFIX)) this.observer.record?.(key, value)
    return stored
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
