import { generateKeyPair } from '@libp2p/crypto/keys'
import { Record as DhtRecord } from '@libp2p/kad-dht'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import * as cborg from 'cborg'
import { LevelDatastore } from 'datastore-level'
import { rm } from 'node:fs/promises'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { utf8 } from '../../../src/shared/bytes.ts'
import { DEFAULT_LIMITS } from '../../../src/shared/swarm-defaults.ts'
import { parseRecordKey, providerCid, recordKey } from '../../../src/main/peer/dht-keys.ts'
import { compareRecords, openRecord, sealRecord } from '../../../src/main/peer/record-envelope.ts'
import { createRecordRules, recordDatastoreKey } from '../../../src/main/peer/record-validation.ts'
import { tempDir } from '../../helpers/swarm.ts'

const NS = 'swarm'
const key = recordKey(NS, 'charging_pause', utf8.encode('robot-1'))
const limits = DEFAULT_LIMITS

async function publisher() {
  const privateKey = await generateKeyPair('Ed25519')
  return { privateKey, id: peerIdFromPrivateKey(privateKey).toString() }
}

describe('key mapping', () => {
  test('records live under /<ns>/<topic>/<key bytes> and map back', () => {
    expect(utf8.decode(key)).toBe('/swarm/charging_pause/robot-1')
    expect(parseRecordKey(NS, key)).toEqual({ topic: 'charging_pause', key: utf8.encode('robot-1') })
    // a key may itself contain "/" and arbitrary bytes: only the topic is delimited
    const binary = recordKey(NS, 't', new Uint8Array([0x2f, 0, 0xff]))
    expect(parseRecordKey(NS, binary)).toEqual({ topic: 't', key: new Uint8Array([0x2f, 0, 0xff]) })
    expect(parseRecordKey('other', key)).toBeNull()
    expect(parseRecordKey(NS, utf8.encode('/swarm/no-key'))).toBeNull()
  })

  test('provider keys are CIDv1 raw of sha2-256 over the record key', async () => {
    const cid = await providerCid(NS, 'capabilities', utf8.encode('camera'))
    expect(cid.version).toBe(1)
    expect(cid.code).toBe(0x55)
    expect(cid.multihash.code).toBe(sha256.code)
    expect(
      cid.equals(
        CID.createV1(0x55, await sha256.digest(recordKey(NS, 'capabilities', utf8.encode('camera'))))
      )
    ).toBe(true)
    expect((await providerCid(NS, 'capabilities', utf8.encode('lidar'))).equals(cid)).toBe(false)
  })
})

describe('signed record envelope', () => {
  test('a sealed record opens with its publisher, time and value', async () => {
    const p = await publisher()
    const { bytes } = await sealRecord(p.privateKey, p.id, key, utf8.encode('1h'))
    const record = await openRecord(key, bytes, { limits })
    expect(record.publisher).toBe(p.id)
    expect(utf8.decode(record.value)).toBe('1h')
    expect(Math.abs(record.createdAt - Date.now())).toBeLessThan(5_000)
  })

  test('refuses tampered value, another key, wrong publisher, bad times, oversize and malformed bytes', async () => {
    const p = await publisher()
    const other = await publisher()
    const { record, bytes } = await sealRecord(p.privateKey, p.id, key, utf8.encode('1h'))
    const reencode = (fields: Record<string, unknown>) => cborg.encode({ v: 1, ...record, ...fields })

    await expect(openRecord(key, reencode({ value: utf8.encode('2h') }), { limits })).rejects.toThrow(
      /signature does not match/
    )
    await expect(
      openRecord(recordKey(NS, 'charging_pause', utf8.encode('robot-2')), bytes, { limits })
    ).rejects.toThrow(/signature/)
    await expect(openRecord(key, reencode({ publisher: other.id }), { limits })).rejects.toThrow(
      /signature does not match/
    )
    await expect(openRecord(key, reencode({ publisher: 'not-a-peer' }), { limits })).rejects.toThrow(
      /not a valid peer id/
    )
    const future = await sealRecord(p.privateKey, p.id, key, utf8.encode('x'), Date.now() + 10 * 60_000)
    await expect(openRecord(key, future.bytes, { limits })).rejects.toThrow(/from the future/)
    const old = await sealRecord(
      p.privateKey,
      p.id,
      key,
      utf8.encode('x'),
      Date.now() - limits.maxRecordAgeMs - 1000
    )
    await expect(openRecord(key, old.bytes, { limits })).rejects.toThrow(/expired/)
    const big = await sealRecord(p.privateKey, p.id, key, new Uint8Array(limits.maxValueBytes + 1))
    await expect(openRecord(key, big.bytes, { limits })).rejects.toThrow(/limit is/)
    await expect(openRecord(key, new Uint8Array([1, 2, 3]), { limits })).rejects.toThrow(/CBOR/)
    await expect(openRecord(key, cborg.encode([1, 2]), { limits })).rejects.toThrow(/not a CBOR map/)
    await expect(openRecord(key, reencode({ extra: 1 }), { limits })).rejects.toThrow(/unknown fields/)
    await expect(openRecord(key, reencode({ createdAt: 'yesterday' }), { limits })).rejects.toThrow(
      /creation time/
    )
  })

  test('a publisher already seen is checked as strictly (its key is kept); so are other key types', async () => {
    for (const type of ['Ed25519', 'secp256k1'] as const) {
      const privateKey = await generateKeyPair(type)
      const id = peerIdFromPrivateKey(privateKey).toString()
      const { record, bytes } = await sealRecord(privateKey, id, key, utf8.encode('1h'))
      expect((await openRecord(key, bytes, { limits })).publisher).toBe(id)
      const reencode = (fields: Record<string, unknown>) => cborg.encode({ v: 1, ...record, ...fields })
      await expect(openRecord(key, reencode({ value: utf8.encode('2h') }), { limits })).rejects.toThrow(
        /signature does not match/
      )
      await expect(
        openRecord(key, reencode({ signature: record.signature.subarray(0, 10) }), { limits })
      ).rejects.toThrow(/signature does not match/)
      // Another publisher's record under this one's name: its signature is not this key's (both keys known).
      const other = await publisher()
      const own = await sealRecord(other.privateKey, other.id, key, utf8.encode('1h'))
      expect((await openRecord(key, own.bytes, { limits })).publisher).toBe(other.id)
      const forged = await sealRecord(other.privateKey, id, key, utf8.encode('1h'))
      await expect(openRecord(key, forged.bytes, { limits })).rejects.toThrow(/signature does not match/)
      expect((await openRecord(key, bytes, { limits })).publisher).toBe(id)
    }
  })

  test('the newer record wins; a tie is broken the same way everywhere', async () => {
    const p = await publisher()
    const a = await sealRecord(p.privateKey, p.id, key, utf8.encode('a'), 1_000)
    const b = await sealRecord(p.privateKey, p.id, key, utf8.encode('b'), 2_000)
    expect(compareRecords(b.record, a.record)).toBeGreaterThan(0)
    const c = await sealRecord(p.privateKey, p.id, key, utf8.encode('c'), 2_000)
    expect(Math.sign(compareRecords(b.record, c.record))).toBe(-Math.sign(compareRecords(c.record, b.record)))
    expect(compareRecords(b.record, b.record)).toBe(0)
  })
})

describe('validator and selector', () => {
  let dir: string
  let datastore: LevelDatastore
  beforeEach(async () => {
    dir = await tempDir()
    datastore = new LevelDatastore(dir)
    await datastore.open()
  })
  afterEach(async () => {
    await datastore.close()
    await rm(dir, { recursive: true, force: true })
  })

  const store = async (bytes: Uint8Array) =>
    datastore.put(recordDatastoreKey(key), new DhtRecord(key, bytes, new Date()).serialize())

  test('refuses an older valid record once a newer one is held (replay), accepts the same or newer', async () => {
    const rules = createRecordRules({ namespace: NS, limits, datastore })
    const p = await publisher()
    const older = await sealRecord(p.privateKey, p.id, key, utf8.encode('1h'), Date.now() - 60_000)
    const newer = await sealRecord(p.privateKey, p.id, key, utf8.encode('2h'), Date.now() - 1_000)
    await rules.validate(key, older.bytes)
    await store(newer.bytes)
    await expect(rules.validate(key, older.bytes)).rejects.toThrow(/older than the one held/)
    await rules.validate(key, newer.bytes)
    const newest = await sealRecord(p.privateKey, p.id, key, utf8.encode('3h'))
    await rules.validate(key, newest.bytes)
  })

  test('refuses keys outside the namespace shape, bad topics and oversize keys', async () => {
    const rules = createRecordRules({ namespace: NS, limits, datastore })
    const p = await publisher()
    const badKey = utf8.encode('/swarm/no-key-segment')
    const sealed = await sealRecord(p.privateKey, p.id, badKey, utf8.encode('x'))
    await expect(rules.validate(badKey, sealed.bytes)).rejects.toThrow(/not \/<namespace>/)
    const longKey = recordKey(NS, 't', new Uint8Array(300))
    const long = await sealRecord(p.privateKey, p.id, longKey, utf8.encode('x'))
    await expect(rules.validate(longKey, long.bytes)).rejects.toThrow(/limit is 256/)
  })

  test('the selector picks the newest valid record and ignores invalid ones', async () => {
    const rules = createRecordRules({ namespace: NS, limits, datastore })
    const p = await publisher()
    const a = await sealRecord(p.privateKey, p.id, key, utf8.encode('a'), Date.now() - 3_000)
    const b = await sealRecord(p.privateKey, p.id, key, utf8.encode('b'), Date.now() - 2_000)
    const forged = cborg.encode({ v: 1, ...b.record, createdAt: Date.now(), value: utf8.encode('forged') })
    expect(await rules.select(key, [a.bytes, forged, b.bytes])).toBe(2)
  })
})
