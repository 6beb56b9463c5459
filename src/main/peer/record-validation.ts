/**
 * The validator and selector registered with kad-dht for our namespace.
 *
 * The validator runs on every record that reaches us: PUT_VALUE from a remote peer, records returned by lookups,
 * and our own stored copy when it is read. Beyond checking the envelope it refuses a record that loses against the
 * copy already held here — stock kad-dht's PUT_VALUE handler stores whatever validates, so without this a replayed
 * older record would overwrite a newer one. The same comparison is made again when the approved record is written
 * (SwarmDatastore.guardRecordWrite): a newer version may be stored between the two.
 */
import { Record as DhtRecord, type SelectFn, type ValidateFn } from '@libp2p/kad-dht'
import { Key, type Datastore } from 'interface-datastore'
import { toString } from 'uint8arrays'
import { checkKey, checkTopic } from '../../shared/topic-key.ts'
import type { RecordLimits } from '../../shared/swarm-defaults.ts'
import { parseRecordKey } from './dht-keys.ts'
import { compareRecords, InvalidRecordError, openRecord, type SignedRecord } from './record-envelope.ts'
import { SwarmDatastore } from './swarm-datastore.ts'

export interface RecordRulesInit {
  namespace: string
  limits: RecordLimits
  datastore: Datastore
  /** kad-dht's datastore prefix (default "/dht"). */
  dhtDatastorePrefix?: string
}

/** Where kad-dht keeps the record for a DHT key in the datastore. */
export function recordDatastoreKey(dhtKey: Uint8Array, dhtDatastorePrefix = '/dht'): Key {
  return new Key(`${dhtDatastorePrefix}/record/${toString(dhtKey, 'base32')}`, false)
}

export function createRecordRules(init: RecordRulesInit): { validate: ValidateFn; select: SelectFn } {
  const { namespace, limits, datastore } = init

  const checkKeyShape = (dhtKey: Uint8Array): void => {
    const parsed = parseRecordKey(namespace, dhtKey)
    if (parsed == null) throw new InvalidRecordError('record key is not /<namespace>/<topic>/<key>')
    try {
      checkTopic(parsed.topic, limits)
      checkKey(parsed.key, limits)
    } catch (err) {
      throw new InvalidRecordError((err as Error).message)
    }
  }

  const readStored = async (dsKey: Key): Promise<Uint8Array | null> => {
    try {
      return await datastore.get(dsKey)
    } catch {
      return null
    }
  }

  const openHeld = async (dhtKey: Uint8Array, stored: Uint8Array | null): Promise<SignedRecord | null> => {
    if (stored == null) return null
    try {
      return await openRecord(dhtKey, DhtRecord.deserialize(stored).value, { limits })
    } catch {
      return null // an expired or broken copy does not protect anything
    }
  }

  const refuseIfOlder = (held: SignedRecord | null, incoming: SignedRecord): void => {
    if (held != null && compareRecords(held, incoming) > 0) {
      throw new InvalidRecordError(
        `record is older than the one held (created ${new Date(incoming.createdAt).toISOString()}, held ${new Date(held.createdAt).toISOString()})`
      )
    }
  }

  const validate: ValidateFn = async (dhtKey, value) => {
    checkKeyShape(dhtKey)
    const incoming = await openRecord(dhtKey, value, { limits })
    const dsKey = recordDatastoreKey(dhtKey, init.dhtDatastorePrefix)
    refuseIfOlder(await openHeld(dhtKey, await readStored(dsKey)), incoming)
    // Checked again against the copy held when kad-dht writes it: a replay of the version held, approved just before
    // a newer version lands, must not roll it back.
    if (datastore instanceof SwarmDatastore) {
      datastore.guardRecordWrite(dsKey, value, async (stored) =>
        refuseIfOlder(await openHeld(dhtKey, stored), incoming)
      )
    }
  }

  const select: SelectFn = async (dhtKey, values) => {
    let best = -1
    let bestRecord: SignedRecord | null = null
    for (const [i, value] of values.entries()) {
      let record: SignedRecord
      try {
        record = await openRecord(dhtKey, value, { limits })
      } catch {
        continue
      }
      if (bestRecord == null || compareRecords(record, bestRecord) > 0) {
        best = i
        bestRecord = record
      }
    }
    // kad-dht expects an index; when nothing is valid the first is as bad as any (the validator already refused them).
    return Math.max(best, 0)
  }

  return { validate, select }
}
