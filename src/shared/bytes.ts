import { fromString, toString } from 'uint8arrays'

export const utf8 = {
  encode: (text: string): Uint8Array => new TextEncoder().encode(text),
  /** Strict: throws on bytes that are not valid UTF-8. */
  decode: (bytes: Uint8Array): string => new TextDecoder('utf-8', { fatal: true }).decode(bytes)
}

export function isUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes)
    return true
  } catch {
    return false
  }
}

export const toHex = (bytes: Uint8Array): string => toString(bytes, 'base16')
export const toBase64 = (bytes: Uint8Array): string => toString(bytes, 'base64pad')
export const fromBase64 = (text: string): Uint8Array => fromString(text, 'base64pad')

/** Parses hex, tolerating whitespace and an optional 0x prefix; throws a readable error. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '').replace(/^0x/i, '').toLowerCase()
  if (clean.length % 2 !== 0) throw new Error('hex must have an even number of digits')
  if (!/^[0-9a-f]*$/.test(clean)) throw new Error('hex may contain only 0-9 and a-f')
  return fromString(clean, 'base16')
}

/** How a key is shown to people: as text when it is printable UTF-8, otherwise as 0x-hex. */
export function displayKey(key: Uint8Array): string {
  if (isUtf8(key)) {
    const text = utf8.decode(key)
    // eslint-disable-next-line no-control-regex
    if (!/[\u0000-\u001f\u007f]/.test(text)) return text
  }
  return `0x${toHex(key)}`
}
