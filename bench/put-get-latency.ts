/**
 * Put and get latency in a loopback swarm of real peers (one process), printed as a table and written as JSON.
 *   npm run bench -- [--peers 8] [--ops 200]
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { parseArgs } from 'node:util'
import { utf8 } from '../src/shared/bytes.ts'
import { spawnSwarm, teardown } from '../test/helpers/swarm.ts'

const { values } = parseArgs({
  options: { peers: { type: 'string', default: '8' }, ops: { type: 'string', default: '200' } }
})
const n = Number(values.peers)
const ops = Number(values.ops)

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
const summary = (samples: number[]) => {
  const sorted = [...samples].sort((a, b) => a - b)
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    n: sorted.length
  }
}

const peers = await spawnSwarm(n)
const put: number[] = []
const get: number[] = []
let found = 0
try {
  for (let i = 0; i < ops; i++) {
    const writer = peers[i % n]!
    const reader = peers[(i + 1 + (i % (n - 1))) % n]!
    const key = `key-${i}`
    let t = performance.now()
    await writer.putRecord({ topic: 'bench', key, value: utf8.encode(`value-${i}`) }, {})
    put.push(performance.now() - t)
    t = performance.now()
    const { record } = await reader.getRecord({ topic: 'bench', key }, {})
    get.push(performance.now() - t)
    if (record != null) found++
  }
} finally {
  await teardown(peers)
}

const result = {
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version
  },
  peers: n,
  operations: ops,
  putMs: summary(put),
  getMs: summary(get),
  getSuccessRate: found / ops
}
const fmt = (x: number) => x.toFixed(1).padStart(8)
console.log(`swarm of ${n} peers on loopback, one process, ${ops} put+get pairs`)
console.log('op      p50 ms   p95 ms   p99 ms')
console.log(`put   ${fmt(result.putMs.p50)} ${fmt(result.putMs.p95)} ${fmt(result.putMs.p99)}`)
console.log(`get   ${fmt(result.getMs.p50)} ${fmt(result.getMs.p95)} ${fmt(result.getMs.p99)}`)
console.log(`get success rate ${(result.getSuccessRate * 100).toFixed(1)} %`)
await mkdir('.bench-results', { recursive: true })
await writeFile('.bench-results/put-get-latency.json', JSON.stringify(result, null, 2) + '\n')
