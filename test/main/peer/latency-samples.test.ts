import { describe, expect, test } from 'vitest'
import { LatencySamples } from '../../../src/main/peer/latency-samples.ts'

describe('LatencySamples', () => {
  test('has no quantile before the first sample', () => {
    expect(new LatencySamples(4).quantile(0.9)).toBeNull()
  })

  test('gives nearest-rank quantiles of the samples held', () => {
    const samples = new LatencySamples(10)
    for (const ms of [5, 1, 4, 2, 3, 10, 9, 8, 7, 6]) samples.add(ms)
    expect(samples.quantile(0.5)).toBe(5)
    expect(samples.quantile(0.9)).toBe(9)
    expect(samples.quantile(1)).toBe(10)
    expect(samples.quantile(0)).toBe(1)
  })

  test('keeps only the last `size` samples', () => {
    const samples = new LatencySamples(3)
    for (const ms of [100, 200, 300, 1, 2, 3]) samples.add(ms)
    expect(samples.quantile(1)).toBe(3)
    samples.add(50)
    expect(samples.quantile(1)).toBe(50)
    expect(samples.quantile(0)).toBe(2)
  })
})
