/**
 * The bench's `serve` join: a real `serve` process, spawned with a bootstrap address, joins a lab swarm of our peers
 * and its table fills, read through its API; the timings come in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { timeServeJoin } from '../../lab/serve-join.ts'
import { SwarmLab } from '../../lab/swarm-lab.ts'

describe('a serve process joining a lab swarm', () => {
  let lab: SwarmLab
  beforeAll(async () => {
    lab = await SwarmLab.start({ impl: 'ours', peers: 6, workers: 2 })
    await lab.converge(1, 20_000)
  }, 60_000)
  afterAll(async () => {
    await lab?.stop()
  })

  it('is timed from spawn to its API, its first routing-table entry and a full table', async () => {
    const sample = await timeServeJoin(lab, { target: 0.9, timeoutMs: 30_000 })
    expect(sample.fill).toBe(1)
    expect(lab.alive.map((p) => p.id)).not.toContain(sample.id)
    // A full table means every figure was reached, in order (each is taken the first time its reading holds).
    expect(sample.fullMs).not.toBeNull()
    expect(sample.firstEntryMs).not.toBeNull()
    expect(sample.targetMs!).toBeLessThanOrEqual(sample.fullMs!)
    expect(sample.rssMb).toBeGreaterThan(10)
  }, 60_000)
})
