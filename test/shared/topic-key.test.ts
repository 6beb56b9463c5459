import { describe, expect, test } from 'vitest'
import { InvalidInputError } from '../../src/shared/errors.ts'
import { commonPrefixLength, xorDistanceHex } from '../../src/shared/kademlia.ts'
import { checkKey, checkTopic, checkValue } from '../../src/shared/topic-key.ts'

describe('topics, keys and values', () => {
  test('a topic is non-empty UTF-8 without "/"', () => {
    expect(checkTopic('charging_pause')).toBe('charging_pause')
    expect(checkTopic('Fähigkeiten')).toBe('Fähigkeiten')
    expect(() => checkTopic('')).toThrow(InvalidInputError)
    expect(() => checkTopic('a/b')).toThrow(/must not contain "\/"/)
    expect(() => checkTopic('x'.repeat(129))).toThrow(/limit is 128/)
  })

  test('a key is bytes; strings are UTF-8', () => {
    expect(checkKey('camera')).toEqual(new TextEncoder().encode('camera'))
    expect(checkKey(new Uint8Array([0, 47, 255]))).toEqual(new Uint8Array([0, 47, 255]))
    expect(() => checkKey('')).toThrow(/must not be empty/)
    expect(() => checkKey(new Uint8Array(257))).toThrow(/limit is 256/)
  })

  test('values are limited in size', () => {
    expect(() => checkValue(new Uint8Array(64 * 1024 + 1))).toThrow(/limit is 65536/)
    expect(checkValue(new Uint8Array(64 * 1024)).byteLength).toBe(65536)
  })
})

describe('kademlia geometry', () => {
  test('common prefix length counts the leading equal bits', () => {
    const a = new Uint8Array(32)
    const b = new Uint8Array(32)
    expect(commonPrefixLength(a, b)).toBe(256)
    b[0] = 0x80
    expect(commonPrefixLength(a, b)).toBe(0)
    b[0] = 0x01
    expect(commonPrefixLength(a, b)).toBe(7)
    b[0] = 0
    b[3] = 0x10
    expect(commonPrefixLength(a, b)).toBe(27)
    expect(xorDistanceHex(a, b)).toBe('00000010' + '0'.repeat(56))
  })
})
