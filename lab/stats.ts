/** Percentiles, the machine description every lab result carries, and what the lab's benchmarks share. */
import { cpus, totalmem } from 'node:os'

export interface Percentiles {
  p50: number
  p95: number
  p99: number
  n: number
}

/** Nearest-rank percentiles; NaN for no samples. */
export function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (p: number): number =>
    sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
  return { p50: at(50), p95: at(95), p99: at(99), n: sorted.length }
}

export const mean = (xs: number[]): number =>
  xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length

export function machine(): {
  cpus: number
  cpuModel: string
  memoryGiB: number
  node: string
  platform: string
} {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`
  }
}

/** What counts as a quiet swarm, before a benchmark's lookups and before each quiet pair: under a tenth of a core. */
export const QUIET_CPU_MS_PER_S = 100

/**
 * A seeded generator, so that runs (and both implementations) get the same sequence of peers and keys. Each value is
 * a Weyl sequence's next step through murmur3's 32-bit finaliser, so that the first values of nearby seeds are
 * unrelated. A linear congruential generator's (what this was) are not: from the bench's seed 100, 16 of the first
 * 30 putters of a 100-peer swarm were in the same one of its four workers (for uniform picks, about one chance in
 * three hundred), so the bench's measured puts piled their publishing on one process.
 */
export function rng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32
  }
}
