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

export class Bookkeeping {
  constructor(private readonly datastore: Datastore) {}

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
