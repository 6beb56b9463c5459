/**
 * The lab's seeded generator: the same seed gives the same sequence, and nearby seeds start unrelated (the bench seeds
 * its picks with the swarm size, and a generator whose first values follow the seed piles a run's first picks
 * together).
 */
import { describe, expect, it } from 'vitest'
import { rng } from '../../lab/stats.ts'

const first = (seed: number, count: number): number[] => {
  const next = rng(seed)
  return Array.from({ length: count }, () => next())
}

describe('lab rng', () => {
  it('repeats its sequence for a seed, within [0, 1)', () => {
    const values = first(100, 1_000)
    expect(first(100, 1_000)).toEqual(values)
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true)
    expect(new Set(values).size).toBe(1_000)
  })

  it('starts nearby seeds at unrelated values', () => {
    const starts = Array.from({ length: 256 }, (_, i) => first(i + 1, 1)[0]!)
    const quarters = [0, 0, 0, 0]
    for (const v of starts) quarters[Math.floor(v * 4)]!++
    // 64 expected in each; a linear congruential generator started all 256 between 0.23 and 0.34.
    for (const count of quarters) expect(count).toBeGreaterThan(40)
  })

  it("spreads the bench's first 30 putters of 100 peers over the four workers", () => {
    const workers = [0, 0, 0, 0]
    for (const v of first(100, 30)) workers[Math.floor(Math.floor(v * 100) / 25)]!++
    // 7.5 expected in each; from seed 100 the linear congruential generator put 16 in one.
    expect(Math.max(...workers)).toBeLessThanOrEqual(12)
  })
})
