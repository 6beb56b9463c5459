/** Percentiles and the machine description every lab result carries. */
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
