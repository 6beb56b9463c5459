/**
 * How topics and keys map onto what stock kad-dht accepts:
 * - records live under the DHT key `/<namespace>/<topic>/<key bytes>` (kad-dht routes validation and selection by
 *   the namespace segment, so the namespace gets our validator and selector);
 * - provider keys must be CIDs: we use CIDv1 (raw codec) of sha2-256 over that same record key. Remote peers refuse an
 *   identity multihash, and hashing keeps every key a fixed 34 bytes on the wire.
 */
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { concat, equals, toString } from 'uint8arrays'
import { utf8 } from '../../shared/bytes.ts'

export function recordKey(namespace: string, topic: string, key: Uint8Array): Uint8Array {
  return concat([utf8.encode(`/${namespace}/${topic}/`), key])
}

/** Reverses recordKey; null when the DHT key is not one of ours (another namespace, or malformed). */
export function parseRecordKey(
  namespace: string,
  dhtKey: Uint8Array
): { topic: string; key: Uint8Array } | null {
  const prefix = utf8.encode(`/${namespace}/`)
  if (dhtKey.length <= prefix.length || !equals(dhtKey.subarray(0, prefix.length), prefix)) return null
  const rest = dhtKey.subarray(prefix.length)
  const slash = rest.indexOf(0x2f)
  if (slash <= 0) return null
  let topic: string
  try {
    topic = utf8.decode(rest.subarray(0, slash))
  } catch {
    return null
  }
  // A plain Uint8Array copy: datastore values are Node Buffers, which serialise differently.
  return { topic, key: new Uint8Array(rest.subarray(slash + 1)) }
}

export async function providerCid(namespace: string, topic: string, key: Uint8Array): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(recordKey(namespace, topic, key)))
}

/** The kad id kad-dht derives from any DHT key: sha2-256 of its bytes. */
export async function kadIdOf(bytes: Uint8Array): Promise<Uint8Array> {
  return (await sha256.digest(bytes)).digest
}

/** Stable text form of a multihash, as kad-dht's datastore keys use it. */
export const multihashKey = (cid: CID): string => toString(cid.multihash.bytes, 'base32')
