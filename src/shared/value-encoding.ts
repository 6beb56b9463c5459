import * as cborg from 'cborg'
import { fromHex, toHex, utf8 } from './bytes.ts'
import { InvalidInputError } from './errors.ts'

/** The encodings a user can write a value in (CLI `--encoding`, put form). */
export const VALUE_ENCODINGS = ['utf8', 'json', 'cbor', 'hex'] as const
export type ValueEncoding = (typeof VALUE_ENCODINGS)[number]

/**
 * Turns user text into value bytes. `json` stores the JSON text itself (validated); `cbor` takes JSON text and
 * stores its CBOR encoding, which is how the seed's Rust SDK `put_record_cbor` stores values.
 */
export function encodeValue(text: string, encoding: ValueEncoding): Uint8Array {
  switch (encoding) {
    case 'utf8':
      return utf8.encode(text)
    case 'json':
      return utf8.encode(JSON.stringify(parseJson(text)))
    case 'cbor':
      return cborg.encode(parseJson(text))
    case 'hex':
      try {
        return fromHex(text)
      } catch (err) {
        throw new InvalidInputError(`invalid hex value: ${(err as Error).message}`)
      }
  }
}

/** Turns value bytes back into text for display; throws InvalidInputError when the bytes are not that encoding. */
export function decodeValue(bytes: Uint8Array, encoding: ValueEncoding): string {
  switch (encoding) {
    case 'utf8':
      try {
        return utf8.decode(bytes)
      } catch {
        throw new InvalidInputError('value is not valid UTF-8 (try --decode hex)')
      }
    case 'json': {
      let text: string
      try {
        text = utf8.decode(bytes)
      } catch {
        throw new InvalidInputError('value is not valid UTF-8, so not JSON (try --decode hex or cbor)')
      }
      return JSON.stringify(parseJson(text), null, 2)
    }
    case 'cbor':
      try {
        return JSON.stringify(cborToJson(cborg.decode(bytes)), null, 2)
      } catch (err) {
        throw new InvalidInputError(`value is not valid CBOR: ${(err as Error).message}`)
      }
    case 'hex':
      return toHex(bytes)
  }
}

/** Decodes CBOR for display, as a JSON-compatible tree (byte strings become `{ "$bytes": hex }`). */
export function decodeCbor(bytes: Uint8Array): unknown {
  return cborToJson(cborg.decode(bytes))
}

function cborToJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: toHex(value) }
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return value.map(cborToJson)
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), cborToJson(v)]))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cborToJson(v)]))
  }
  return value
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new InvalidInputError(`invalid JSON: ${(err as Error).message}`)
  }
}
