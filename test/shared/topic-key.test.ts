import { describe, expect, test } from 'vitest'
import { InvalidInputError } from '../../src/shared/errors.ts'
import { commonPrefixLength, log2Distance, xorDistanceHex } from '../../src/shared/kademlia.ts'
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

  test('log2 distance agrees with the log2 of the whole distance, read as one number', () => {
    const exact = (a: Uint8Array, b: Uint8Array): number => {
      const d = Number(BigInt(`0x${xorDistanceHex(a, b)}`))
      return d === 0 ? 0 : Math.log2(d)
    }
    const a = new Uint8Array(32)
    expect(log2Distance(a, a)).toBe(0)
    const b = new Uint8Array(32)
    b[31] = 1
    expect(log2Distance(a, b)).toBe(0)
    b[31] = 0
    b[0] = 0x80
    expect(log2Distance(a, b)).toBe(255)
    let seed = 7
    // The LCG's high byte (its low bits cycle with short periods).
    const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24
    for (let i = 0; i < 500; i++) {
      const x = Uint8Array.from({ length: 32 }, random)
      const y = Uint8Array.from(x)
      // Share a random number of leading bytes (and so leading bits), down to distances of a few bits.
      const from = i % 33
      for (let j = from; j < 32; j++) y[j] = random()
      expect(log2Distance(x, y)).toBeCloseTo(exact(x, y), 9)
    }
  })
})
