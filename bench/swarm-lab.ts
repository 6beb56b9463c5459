/**
 * The swarm lab benchmark: for each swarm size, a swarm of our peers and a swarm of stock kad-dht peers, each over
 * several worker processes on loopback, measured side by side with the same workload. Prints a table with the
 * ratios ours/stock and writes bench/results/swarm-lab.json.
 *   npm run bench:lab -- [--sizes 10,50,100,200] [--impls ours,stock] [--ops 30] [--budget 60] [--quiet 100]
 *                        [--cpu-prof DIR]
 * Each run's workload stops early when its time budget (seconds) runs out — a stock swarm of 200 takes seconds per
 * lookup — and the JSON says how many operations ran. Puts, gets and provider lookups run back to back; then, at the
 * sizes `--quiet` names, up to 15 put-and-get pairs run one at a time on a quiet swarm (`quiet` in the JSON). Before
 * them all, a warm-up of puts and gets, reported apart (`warmUp`: see WARM_UP_PUTS).
 * `--cpu-prof DIR`: every worker of every run writes a V8 CPU profile there (a subdirectory per run).
 * Joins are timed twice: a peer started in a running worker (both implementations), and for ours a `serve` process
 * spawned from nothing (lab/serve-join.ts), what a robot that boots and runs serve waits for.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { utf8 } from '../src/shared/bytes.ts'
import type { LabImpl, LookupSample } from '../lab/lab-protocol.ts'
import { machine, mean, percentiles, QUIET_CPU_MS_PER_S, rng } from '../lab/stats.ts'
import { timeServeJoin, type ServeJoinSample } from '../lab/serve-join.ts'
import { SwarmLab } from '../lab/swarm-lab.ts'

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,50,100,200' },
    impls: { type: 'string', default: 'ours,stock' },
    ops: { type: 'string', default: '30' },
    budget: { type: 'string', default: '60' },
    out: { type: 'string', default: 'bench/results/swarm-lab.json' },
    quiet: { type: 'string', default: '100' },
    'cpu-prof': { type: 'string' }
  }
})
const sizes = values.sizes.split(',').map(Number)
const impls = values.impls.split(',') as LabImpl[]
const ops = Number(values.ops)
const budgetMs = Number(values.budget) * 1000
/**
 * Put-and-get pairs measured one at a time on a quiet swarm, at the sizes `--quiet` names (by default the 100 peers
 * the targets are set at: every pair waits for the swarm to quiet down, 1-2 s at 100 peers, and the whole bench must
 * stay under 15 minutes), within a budget of their own (a stock lookup takes seconds).
 */
const quietSizes = new Set(values.quiet.split(',').filter(Boolean).map(Number))
const QUIET_OPS = 15
/**
 * Provider lookups per provided key, each by another random peer (the first right after the provide). With one per
 * key, the bench's p50 rested on 8 lookups: stock's first provider at 100 peers came at 31 ms in one bench, and at
 * 54, 42 and 51 ms in three scratch runs of 30; a stock provide takes about a second, a lookup tens of ms.
 */
const FINDS_PER_PROVIDE = 3
/**
 * The longest wait for the swarm to settle before its lookups. At 100 peers ours spends about 35 s from its start
 * opening the table mesh's connections, and its crawlers probe for new peers for a minute after each peer's start:
 * in two runs traced here the swarm, converged 25 s after its start, came under a tenth of a core 51 and about 55 s
 * after that (settled, it idles at 0.07 of a core, most of it liveness pings). With 45 s, the bench's 100-peer runs at b2b8729 and
 * eefb829 began their lookups at 0.16 and 0.19 of a core. At 200 peers it does not settle within this either.
 */
const SETTLE_MS = 75_000
/**
 * Puts, then gets of some of what they put, made before the measured ones and reported apart (`warmUp` in the
 * JSON): the puts stop at WARM_UP_PUTS or at 70 % of WARM_UP_BUDGET_MS, the gets at WARM_UP_GETS or at the budget (a
 * stock put at 100 peers takes about a second). They are the first requests of their kind in the swarm's life, and
 * every worker's code for them runs cold: V8 compiles a function for speed only after it has run many times. In a
 * 100-peer lab of ours, ten sets of 30 puts back to back had medians of 23, 23, 17, 16, 18, 18, 12, 17, 18 and 14
 * ms; the profiler's samples per put in the workers fell from 65 ms in the first two sets to 52 in the last two,
 * spread over many functions whose own time fell five- to tenfold (protobuf encoding and decoding, timers, the
 * lookup's request code, the peer store's merges): V8's tiers, not a cache. The measured lookups are those of a
 * swarm that has run a while, the warm-up's those of one that has just formed.
 */
const WARM_UP_PUTS = 150
const WARM_UP_GETS = 60
const WARM_UP_BUDGET_MS = 10_000
const QUIET_BUDGET_MS = 30_000

async function runOne(impl: LabImpl, n: number) {
  const workers = Math.min(4, Math.max(2, Math.ceil(n / 25)))
  const started = performance.now()
  const profiles = values['cpu-prof']
  const lab = await SwarmLab.start({
    impl,
    peers: n,
    workers,
    ...(profiles != null ? { cpuProfileDir: resolve(profiles, `${impl}-${n}`) } : {})
  })
  const startMs = performance.now() - started
  try {
    const converged = await lab.converge(0.95, 30_000)
    // Lookups are measured on a settled swarm: under a tenth of a core for the whole swarm, or SETTLE_MS at most.
    const settled = await lab.settle(QUIET_CPU_MS_PER_S, SETTLE_MS)
    const random = rng(n)
    const pick = (): number => Math.floor(random() * n)
    const warmUp = await warmUpLookups(lab, n)
    // The measured puts start on a quiet swarm again, past the warm-up puts' writes to the rest of their k closest.
    const warmUpSettle = await lab.settle(QUIET_CPU_MS_PER_S, 10_000)
    // Puts get 40 % of the budget, gets 40 %, providers the rest; each phase stops at its share.
    const workStarted = performance.now()
    const until = (share: number) => () => performance.now() - workStarted < budgetMs * share
    const { puts, gets } = await putThenGet(lab, pick, {
      puts: ops,
      gets: ops,
      record: (i) => ({ key: `k-${n}-${i}`, value: utf8.encode(`value ${i} for a swarm of ${n}`) }),
      putsGoOn: until(0.4),
      // At least one get, however long the puts took.
      getsGoOn: (done) => done === 0 || until(0.8)()
    })
    const provides: LookupSample[] = []
    const finds: Awaited<ReturnType<SwarmLab['findProviders']>>[] = []
    for (let i = 0; i < Math.ceil(ops / 4) && (i === 0 || until(1)()); i++) {
      const provider = pick()
      provides.push(await lab.provide(provider, 'bench', `p-${i}`))
      // Three different finders, none of them the provider (a finder asked twice would reuse its connections).
      const finders = new Set<number>()
      while (finders.size < Math.min(FINDS_PER_PROVIDE, n - 1)) {
        const finder = pick()
        if (finder !== provider) finders.add(finder)
      }
      for (const finder of finders)
        finds.push(await lab.findProviders(finder, 'bench', `p-${i}`, [lab.peers[provider]!.id]))
    }
    // The same lookups one at a time on a quiet swarm: each waits until the swarm uses under a tenth of a core (over
    // a quarter of a second, 3 s at most). The phases above run back to back, so each lookup there shares two cores
    // with the tail of the ones before it (a put's writes to the rest of the k closest, and their handshakes): on a
    // hundred machines those would run on other CPUs. Both measures are reported.
    const quietPuts: LookupSample[] = []
    const quietGets: LookupSample[] = []
    const quietStarted = performance.now()
    const quietOps = quietSizes.has(n) ? QUIET_OPS : 0
    for (let i = 0; i < quietOps && performance.now() - quietStarted < QUIET_BUDGET_MS; i++) {
      const key = `q-${n}-${i}`
      const value = utf8.encode(`quiet value ${i}`)
      await lab.settle(QUIET_CPU_MS_PER_S, 3_000, 250)
      quietPuts.push(await lab.put(pick(), 'bench', key, value))
      await lab.settle(QUIET_CPU_MS_PER_S, 3_000, 250)
      quietGets.push(await lab.get(pick(), 'bench', key, value))
    }
    const usage = await lab.usage()
    const join = await lab.join(workers - 1, 0.9, 10_000)
    // What a user waits for: a `serve` process started from nothing (ours only: stock has no serve). Its failure is
    // reported with the run rather than losing the run's other figures.
    let serveJoin: ServeJoinSample | null = null
    let serveJoinError: string | undefined
    if (impl === 'ours') {
      try {
        serveJoin = await timeServeJoin(lab, { target: 0.9, timeoutMs: 20_000 })
      } catch (err) {
        serveJoinError = (err as Error).message
      }
    }
    const lookups = [...gets, ...finds]
    const ms = (xs: LookupSample[]) => percentiles(xs.map((s) => s.ms))
    return {
      impl,
      peers: n,
      workers,
      operations: { puts: puts.length, gets: gets.length, findProviders: finds.length },
      putMs: ms(puts),
      getMs: ms(gets),
      provideMs: ms(provides),
      warmUp: {
        operations: { puts: warmUp.puts.length, gets: warmUp.gets.length },
        putMs: ms(warmUp.puts),
        getMs: ms(warmUp.gets),
        settle: warmUpSettle
      },
      quiet: {
        operations: { puts: quietPuts.length, gets: quietGets.length },
        putMs: ms(quietPuts),
        getMs: ms(quietGets),
        successRate: quietGets.length === 0 ? null : quietGets.filter((s) => s.ok).length / quietGets.length
      },
      findProvidersFirstMs: percentiles(finds.flatMap((f) => (f.firstMs != null ? [f.firstMs] : []))),
      findProvidersMs: ms(finds),
      successRate: lookups.filter((s) => s.ok).length / lookups.length,
      putSuccessRate: puts.filter((s) => s.ok).length / puts.length,
      contactedPerLookup: mean(lookups.map((s) => s.contacted)),
      roundsPerLookup: mean(lookups.map((s) => s.rounds)),
      contactedPerPut: mean(puts.map((s) => s.contacted)),
      rssMbPerPeer: usage.rssMbPerPeer,
      heapMbPerPeer: usage.heapMbPerPeer,
      cpuMsPerPeer: usage.cpuMsPerPeer,
      connectionsPerPeer: usage.connectionsPerPeer,
      swarmStartMs: startMs,
      convergeMs: converged.ms,
      settle: settled,
      tableFill: { mean: converged.mean, min: converged.min },
      joinFirstEntryMs: join.firstEntryMs,
      joinTo90PercentMs: join.targetMs,
      joinToFullTableMs: join.fullMs,
      joinFill: join.fill,
      serveJoin,
      ...(serveJoinError != null ? { serveJoinError } : {}),
      runMs: performance.now() - started,
      errors: [...puts, ...lookups].flatMap((s) => (s.error != null ? [s.error] : [])).slice(0, 5)
    }
  } finally {
    await lab.stop()
  }
}

/**
 * Puts up to `puts` records back to back (`record(i)` names each) while `putsGoOn()`, then gets the first `gets` of
 * them back, each from a peer `pick` chooses, while `getsGoOn(gets done)`.
 */
async function putThenGet(
  lab: SwarmLab,
  pick: () => number,
  plan: {
    puts: number
    gets: number
    record: (i: number) => { key: string; value: Uint8Array }
    putsGoOn: () => boolean
    getsGoOn: (done: number) => boolean
  }
): Promise<{ puts: LookupSample[]; gets: LookupSample[] }> {
  const puts: LookupSample[] = []
  const gets: LookupSample[] = []
  const records: { key: string; value: Uint8Array }[] = []
  for (let i = 0; i < plan.puts && plan.putsGoOn(); i++) {
    const { key, value } = plan.record(i)
    records.push({ key, value })
    puts.push(await lab.put(pick(), 'bench', key, value))
  }
  for (const { key, value } of records.slice(0, plan.gets)) {
    if (!plan.getsGoOn(gets.length)) break
    gets.push(await lab.get(pick(), 'bench', key, value))
  }
  return { puts, gets }
}

/**
 * The warm-up's puts and gets (see WARM_UP_PUTS), back to back, of keys the measured lookups do not use, from peers
 * picked by a generator of their own: the measured lookups are made by the same peers, whatever the warm-up managed.
 */
function warmUpLookups(lab: SwarmLab, n: number): Promise<{ puts: LookupSample[]; gets: LookupSample[] }> {
  const random = rng(n + 0x10000)
  const started = performance.now()
  const within = (share: number): boolean => performance.now() - started < WARM_UP_BUDGET_MS * share
  return putThenGet(lab, () => Math.floor(random() * n), {
    puts: WARM_UP_PUTS,
    gets: WARM_UP_GETS,
    record: (i) => ({ key: `w-${n}-${i}`, value: utf8.encode(`warm-up value ${i}`) }),
    putsGoOn: () => within(0.7),
    getsGoOn: () => within(1)
  })
}

type Run = Awaited<ReturnType<typeof runOne>>
const runs: Run[] = []
const benchStarted = performance.now()
for (const n of sizes) {
  for (const impl of impls) {
    let run: Run
    try {
      run = await runOne(impl, n)
    } catch (err) {
      // One run that fails (a stuck worker, say) is reported, and the others still run.
      console.error(`${impl} N=${n}: run failed: ${(err as Error).message}`)
      continue
    }
    runs.push(run)
    if (run.serveJoinError != null) console.error(`${impl} N=${n}: serve join failed: ${run.serveJoinError}`)
    console.error(
      `${impl} N=${n}: put p50 ${run.putMs.p50.toFixed(1)} ms, get p50 ${run.getMs.p50.toFixed(1)} ms p99 ${run.getMs.p99.toFixed(1)} ms, ` +
        `rounds ${run.roundsPerLookup.toFixed(2)}, success ${(run.successRate * 100).toFixed(0)} %, ` +
        `fill ${(run.tableFill.mean * 100).toFixed(0)} %, rss ${run.rssMbPerPeer.toFixed(1)} MB/peer`
    )
  }
}

const fmt = (x: number | null | undefined, digits = 1): string =>
  x == null || Number.isNaN(x) ? '—' : x.toFixed(digits)
const rows: [string, (r: Run) => number | null][] = [
  ['put p50 ms', (r) => r.putMs.p50],
  ['put p95 ms', (r) => r.putMs.p95],
  ['put p99 ms', (r) => r.putMs.p99],
  ['get p50 ms', (r) => r.getMs.p50],
  ['get p95 ms', (r) => r.getMs.p95],
  ['get p99 ms', (r) => r.getMs.p99],
  ['warm-up put p50 ms', (r) => r.warmUp.putMs.p50],
  ['warm-up get p50 ms', (r) => r.warmUp.getMs.p50],
  ['quiet put p50 ms', (r) => r.quiet.putMs.p50],
  ['quiet get p50 ms', (r) => r.quiet.getMs.p50],
  ['quiet get p95 ms', (r) => r.quiet.getMs.p95],
  ['findProviders first p50 ms', (r) => r.findProvidersFirstMs.p50],
  ['findProviders first p95 ms', (r) => r.findProvidersFirstMs.p95],
  ['findProviders done p50 ms', (r) => r.findProvidersMs.p50],
  ['peers contacted / lookup', (r) => r.contactedPerLookup],
  ['rounds / lookup', (r) => r.roundsPerLookup],
  ['lookup success %', (r) => r.successRate * 100],
  ['RSS MB / peer', (r) => r.rssMbPerPeer],
  ['CPU ms / peer', (r) => r.cpuMsPerPeer],
  ['connections / peer', (r) => r.connectionsPerPeer],
  ['table fill %', (r) => r.tableFill.mean * 100],
  ['join: first entry ms', (r) => r.joinFirstEntryMs],
  ['join: 90 % of ideal ms', (r) => r.joinTo90PercentMs],
  ['join: full table ms', (r) => r.joinToFullTableMs],
  ['serve join: API up ms', (r) => r.serveJoin?.apiMs ?? null],
  ['serve join: first entry ms', (r) => r.serveJoin?.firstEntryMs ?? null],
  ['serve join: 90 % ms', (r) => r.serveJoin?.targetMs ?? null],
  ['serve join: full table ms', (r) => r.serveJoin?.fullMs ?? null],
  ['serve RSS MB', (r) => r.serveJoin?.rssMb ?? null]
]
for (const n of sizes) {
  const ours = runs.find((r) => r.impl === 'ours' && r.peers === n)
  const stock = runs.find((r) => r.impl === 'stock' && r.peers === n)
  console.log(`\nN = ${n} peers (${ours?.workers ?? stock?.workers} processes)`)
  console.log(
    `${'figure'.padEnd(28)}${'ours'.padStart(10)}${'stock'.padStart(10)}${'ours/stock'.padStart(12)}`
  )
  for (const [label, get] of rows) {
    const a = ours != null ? get(ours) : null
    const b = stock != null ? get(stock) : null
    const ratio = a != null && b != null && b !== 0 ? fmt(a / b, 2) : '—'
    console.log(`${label.padEnd(28)}${fmt(a).padStart(10)}${fmt(b).padStart(10)}${ratio.padStart(12)}`)
  }
}
const result = {
  date: new Date().toISOString(),
  machine: machine(),
  durationS: (performance.now() - benchStarted) / 1000,
  // Profiled runs are slower (the profiler samples every millisecond): their figures are not comparable.
  ...(values['cpu-prof'] != null ? { cpuProfiled: true } : {}),
  runs
}
await mkdir('bench/results', { recursive: true })
await writeFile(values.out, JSON.stringify(result, null, 2) + '\n')
console.log(`\nwritten to ${values.out} (${result.durationS.toFixed(0)} s)`)
