/**
 * The lab's CPU profiles: with `cpuProfileDir`, every worker writes a V8 CPU profile when the lab stops. A worker
 * that is killed instead of exiting writes none, so this also checks that `stop` lets workers exit by themselves.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SwarmLab } from '../../lab/swarm-lab.ts'

describe('swarm lab CPU profiles', () => {
  const dirs: string[] = []
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })))
  })

  it('writes one profile per worker, covering the peers’ work, when the lab stops', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swarm-lab-prof-'))
    dirs.push(dir)
    const lab = await SwarmLab.start({ impl: 'ours', peers: 4, workers: 2, cpuProfileDir: dir })
    try {
      await lab.converge(1, 20_000)
      expect((await lab.put(0, 'prof', 'k', new TextEncoder().encode('v'))).ok).toBe(true)
    } finally {
      await lab.stop()
    }
    const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'))
    expect(files).toHaveLength(2)
    for (const file of files) {
      const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as {
        nodes: { callFrame: { url: string } }[]
      }
      // The worker's own peers ran in it: the profile names the peer's modules.
      expect(profile.nodes.some((n) => n.callFrame.url.includes('src/main/peer/'))).toBe(true)
    }
  }, 90_000)
})
