/**
 * What back-to-back puts cost a lab swarm of ours in CPU, for A/B runs of a change that moves CPU: the whole lab's
 * percentiles swing more between runs than most such changes move them (README, "Runs vary more than most changes
 * move them"), while the CPU a burst of puts leaves behind, handshakes and background writes included, holds still
 * enough to compare.
 *   npm run bench:puts -- [--peers 100] [--workers 4] [--puts 30] [--runs 1]
 * Each run starts a swarm, waits for its tables (95 % of ideal, 30 s at most) and for quiet (75 s at most, as the bench: see SETTLE_MS there), takes the swarm's idle CPU
 * over 3 s, then puts back to back from seeded random peers and waits until the swarm is quiet again (20 s at most).
 * A put's CPU is the swarm's CPU from the first put until then, less the idle rate, divided by the puts. Prints a line
 * per run and the medians; writes nothing.
 */
import { parseArgs } from 'node:util'
import { utf8 } from '../src/shared/bytes.ts'
import { percentiles, QUIET_CPU_MS_PER_S, rng } from '../lab/stats.ts'
import { SwarmLab } from '../lab/swarm-lab.ts'

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '100' },
    workers: { type: 'string', default: '4' },
    puts: { type: 'string', default: '30' },
    runs: { type: 'string', default: '1' }
  }
})
const peers = Number(values.peers)
const workers = Number(values.workers)
const puts = Number(values.puts)
const runs = Number(values.runs)
const IDLE_WINDOW_MS = 3_000

interface PutsRun {
  /** The tables' mean fill when the puts started, and whether the swarm was quiet before them and after. */
  tableFill: number
  quietBefore: boolean
  quietAfter: boolean
  putP50Ms: number
  cpuMsPerPut: number
  idleCpuMsPerS: number
  quietAfterMs: number
}

async function runOnce(): Promise<PutsRun> {
  const lab = await SwarmLab.start({ impl: 'ours', peers, workers })
  try {
    const converged = await lab.converge(0.95, 30_000)
    const before = await lab.settle(QUIET_CPU_MS_PER_S, 75_000)
    const cpuMs = async (): Promise<number> => (await lab.usage()).cpuMsPerPeer * lab.peers.length
    const idle0 = await cpuMs()
    const idleStarted = performance.now()
    await new Promise((resolve) => setTimeout(resolve, IDLE_WINDOW_MS))
    const idlePerMs = ((await cpuMs()) - idle0) / (performance.now() - idleStarted)

    const random = rng(peers)
    const used0 = await cpuMs()
    const started = performance.now()
    const times: number[] = []
    for (let i = 0; i < puts; i++) {
      const from = Math.floor(random() * peers)
      times.push((await lab.put(from, 'bench', `puts-${i}`, utf8.encode(`value ${i}`))).ms)
    }
    const putsEnded = performance.now()
    const after = await lab.settle(QUIET_CPU_MS_PER_S, 20_000, 500)
    const used = (await cpuMs()) - used0 - idlePerMs * (performance.now() - started)
    return {
      tableFill: converged.mean,
      quietBefore: before.cpuMsPerS < QUIET_CPU_MS_PER_S,
      quietAfter: after.cpuMsPerS < QUIET_CPU_MS_PER_S,
      putP50Ms: percentiles(times).p50,
      cpuMsPerPut: used / puts,
      idleCpuMsPerS: idlePerMs * 1_000,
      quietAfterMs: performance.now() - putsEnded
    }
  } finally {
    await lab.stop()
  }
}

const results: PutsRun[] = []
for (let i = 0; i < runs; i++) {
  const r = await runOnce()
  results.push(r)
  console.log(
    `run ${i + 1}: ${puts} puts at ${peers} peers: put p50 ${r.putP50Ms.toFixed(1)} ms, ` +
      `CPU per put ${r.cpuMsPerPut.toFixed(0)} ms (swarm idle at ${r.idleCpuMsPerS.toFixed(0)} ms/s, ` +
      `quiet ${(r.quietAfterMs / 1_000).toFixed(1)} s after the last put; tables ${(r.tableFill * 100).toFixed(0)} % full)` +
      // Such a run measures the swarm's forming or its tail as well as the puts: compare it with care.
      (r.quietBefore ? '' : ' [not quiet before the puts]') +
      (r.quietAfter ? '' : ' [not quiet 20 s after them: the CPU per put is short of the whole]')
  )
}
if (runs > 1) {
  const median = (f: (r: PutsRun) => number): string => percentiles(results.map(f)).p50.toFixed(0)
  console.log(
    `medians: put p50 ${median((r) => r.putP50Ms)} ms, CPU per put ${median((r) => r.cpuMsPerPut)} ms`
  )
}
