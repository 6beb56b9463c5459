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
    // Named CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: one process per worker.
    expect(new Set(files.map((f) => f.split('.')[3])).size).toBe(2)
    for (const file of files) {
      const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as {
        nodes: { callFrame: { functionName: string; url: string } }[]
      }
      // The worker's peers started in it (not only its modules loaded): opening a peer's identity (a key
      // derivation of tens of ms) is in its samples.
      expect(
        profile.nodes.some(
          ({ callFrame }) =>
            callFrame.functionName === 'loadOrCreateIdentity' &&
            callFrame.url.includes('src/main/peer/identity.ts')
        )
      ).toBe(true)
    }
  }, 90_000)
})
