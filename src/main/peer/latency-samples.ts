/**
 * A sliding window of recent durations and their quantiles: what a get's hedge delay is drawn from
 * (one-round-lookups.ts). A fixed window rather than a moving average, so one slow answer moves the estimate by one
 * sample's worth and ages out.
 */

/** The last `size` durations, ms, and their quantiles. */
export class LatencySamples {
  private readonly samples: number[] = []
  private next = 0

  constructor(private readonly size: number) {}

  add(ms: number): void {
    this.samples[this.next] = ms
    this.next = (this.next + 1) % this.size
  }

  /** The `q` quantile (nearest rank) of the samples held; null with none. */
  quantile(q: number): number | null {
    if (this.samples.length === 0) return null
    const sorted = [...this.samples].sort((a, b) => a - b)
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
  }
}
