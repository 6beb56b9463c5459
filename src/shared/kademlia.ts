/**
 * Kademlia geometry on 256-bit kad ids (sha2-256 of a peer id's multihash, or of a DHT key).
 * Pure functions, shared by the peer's routing-table view and the renderer's pictures.
 */
export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new Error(`kad ids differ in length: ${a.length} vs ${b.length}`)
  const out = new Uint8Array(a.length)
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0)
  return out
}

/** Number of leading bits two ids share: the index of the k-bucket one sits in from the other's view. */
export function commonPrefixLength(a: Uint8Array, b: Uint8Array): number {
  const d = xor(a, b)
  for (let i = 0; i < d.length; i++) {
    const byte = d[i] ?? 0
    if (byte !== 0) return i * 8 + Math.clz32(byte) - 24
  }
  return d.length * 8
}

const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))

/** The XOR distance as a lowercase hex string of the full id width (sortable as text). */
export function xorDistanceHex(a: Uint8Array, b: Uint8Array): string {
  let hex = ''
  for (const byte of xor(a, b)) hex += HEX_BYTES[byte]
  return hex
}

/**
 * log2 of the XOR distance, in [0, 256] (0 also for identical ids, 256 where the widest distances round up): a scale
 * on which "closer" is visible in pictures, since raw distances span 77 decimal digits. Every step of every lookup's
 * trace takes one, so it reads the distance's leading seven bytes as a number (a double keeps 53 bits) rather than
 * going through a BigInt.
 */
export function log2Distance(a: Uint8Array, b: Uint8Array): number {
  const d = xor(a, b)
  let first = 0
  while (first < d.length && d[first] === 0) first++
  if (first === d.length) return 0
  const end = Math.min(d.length, first + 7)
  let leading = 0
  for (let i = first; i < end; i++) leading = leading * 256 + (d[i] ?? 0)
  return Math.log2(leading) + (d.length - end) * 8
}
