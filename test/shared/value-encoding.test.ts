import * as cborg from 'cborg'
import { describe, expect, test } from 'vitest'
import { displayKey, fromHex, toHex, utf8 } from '../../src/shared/bytes.ts'
import { decodeCbor, decodeValue, encodeValue } from '../../src/shared/value-encoding.ts'
import { fromWireJson, toWireJson } from '../../src/shared/wire.ts'

describe('value encodings', () => {
  test('utf8 round-trips text, including non-ASCII', () => {
    const bytes = encodeValue('1h ⏱', 'utf8')
    expect(decodeValue(bytes, 'utf8')).toBe('1h ⏱')
  })

  test('json validates and normalises, and decodes pretty', () => {
    const bytes = encodeValue('{ "a" : [1, 2] }', 'json')
    expect(utf8.decode(bytes)).toBe('{"a":[1,2]}')
    expect(decodeValue(bytes, 'json')).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}')
    expect(() => encodeValue('{nope', 'json')).toThrow(/invalid JSON/)
  })

  test('cbor is encoded from JSON text and decoded to a tree', () => {
    const bytes = encodeValue('{"battery": 83, "ok": true}', 'cbor')
    expect(cborg.decode(bytes)).toEqual({ battery: 83, ok: true })
    expect(JSON.parse(decodeValue(bytes, 'cbor'))).toEqual({ battery: 83, ok: true })
    expect(decodeCbor(cborg.encode({ raw: new Uint8Array([1, 2]) }))).toEqual({ raw: { $bytes: '0102' } })
    expect(() => decodeValue(new Uint8Array([0xff, 0x00]), 'cbor')).toThrow(/not valid CBOR/)
  })

  test('hex accepts spacing and 0x, refuses odd length and non-hex digits', () => {
    expect(toHex(encodeValue('0x DE ad', 'hex'))).toBe('dead')
    expect(() => encodeValue('abc', 'hex')).toThrow(/even number/)
    expect(() => encodeValue('zz', 'hex')).toThrow(/only 0-9/)
    expect(decodeValue(fromHex('00ff'), 'hex')).toBe('00ff')
  })

  test('utf8 decoding refuses invalid bytes with a hint', () => {
    expect(() => decodeValue(new Uint8Array([0xc3, 0x28]), 'utf8')).toThrow(/not valid UTF-8/)
  })

  test('keys display as text when printable, else as hex', () => {
    expect(displayKey(utf8.encode('camera'))).toBe('camera')
    expect(displayKey(new Uint8Array([0, 1, 0xfe]))).toBe('0x0001fe')
  })

  test('wire JSON carries bytes, including Node Buffers, as base64', () => {
    const text = toWireJson({ a: new Uint8Array([1, 2, 3]), b: Buffer.from('hi'), c: 'x' })
    expect(text).toBe('{"a":{"$bytes":"AQID"},"b":{"$bytes":"aGk="},"c":"x"}')
    const back = fromWireJson(text) as { a: Uint8Array; b: Uint8Array }
    expect(back.a).toEqual(new Uint8Array([1, 2, 3]))
    expect(utf8.decode(back.b)).toBe('hi')
  })
})
