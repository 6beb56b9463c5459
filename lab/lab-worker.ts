/**
 * A swarm-lab worker: one OS process hosting several peers (ours or stock), so that a swarm of 200 runs on two
 * cores. The controller (swarm-lab.ts) forks it with an IPC channel and sends LabRequests; each gets one LabReply.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { LabPeer } from './lab-peer.ts'
import type { LabCommands, LabOp, LabReply, LabRequest, WorkerInit } from './lab-protocol.ts'
import { tableFill } from './ideal-table.ts'
import { startOursPeer } from './ours-peer.ts'
import { startStockPeer } from './stock-peer.ts'

const peers: LabPeer[] = []
let settings: WorkerInit | undefined

async function startPeer(init: WorkerInit, bootstrap: string[]): Promise<LabPeer> {
  if (init.impl === 'stock') return startStockPeer({ host: init.host, bootstrap })
  const dataDir = join(init.dataDir, `peer-${peers.length}-${Math.random().toString(36).slice(2, 8)}`)
  await mkdir(dataDir, { recursive: true })
  return startOursPeer({
    dataDir,
    host: init.host,
    bootstrap,
    ...(init.republishIntervalMs != null ? { republishIntervalMs: init.republishIntervalMs } : {}),
    ...(init.kBucketSize != null ? { kBucketSize: init.kBucketSize } : {})
  })
}

const peer = (index: number): LabPeer => {
  const p = peers[index]
  if (p == null) throw new Error(`no peer ${index} in this worker`)
  return p
}

type Handlers = { [K in LabOp]: (input: LabCommands[K]['in']) => Promise<LabCommands[K]['out']> }

/** This process's CPU time so far, all threads, in ms. */
function cpuMs(): number {
  const cpu = process.cpuUsage()
  return (cpu.user + cpu.system) / 1000
}

const handlers: Handlers = {
  async start(init) {
    settings = init
    for (let i = 0; i < init.peers; i++) {
      // A worker's first peer joins through the swarm's seeds (none for the seed worker's own first peer); the
      // others join through it and one seed. A hundred peers joining through the same three seeds kept the seed
      // worker's process saturated, and newcomers' handshakes with the seeds timed out.
      const first = peers[0]
      const bootstrap = first == null ? init.bootstrap : [first.addrs()[0]!, ...init.bootstrap.slice(0, 1)]
      peers.push(await startPeer(init, bootstrap))
    }
    return peers.map((p) => ({ id: p.id, addrs: p.addrs() }))
  },
  tables: async () => peers.map((p) => p.table()),
  put: ({ peer: i, topic, key, value }) => peer(i).put(topic, key, value),
  get: ({ peer: i, topic, key, expect }) => peer(i).get(topic, key, expect),
  provide: ({ peer: i, topic, key }) => peer(i).provide(topic, key),
  findProviders: ({ peer: i, topic, key, expect }) => peer(i).findProviders(topic, key, expect),
  async republish() {
    await Promise.all(peers.map((p) => p.republish()))
    return null
  },
  holders: ({ topic, key }) => Promise.all(peers.map((p) => p.holds(topic, key))),
  async cpu() {
    return cpuMs()
  },
  async usage() {
    const memory = process.memoryUsage()
    return {
      peers: peers.length,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      cpuMs: cpuMs(),
      connections: peers.reduce((n, p) => n + p.connections(), 0)
    }
  },
  async join({ bootstrap, swarm, target, timeoutMs }) {
    if (settings == null) throw new Error('join before start')
    const started = performance.now()
    const joined = await startPeer(settings, bootstrap)
    peers.push(joined)
    let firstEntryMs: number | null = null
    let targetMs: number | null = null
    let fill = 0
    while (performance.now() - started < timeoutMs) {
      const table = joined.table()
      const at = performance.now() - started
      if (firstEntryMs == null && table.length > 0) firstEntryMs = at
      fill = tableFill(joined.id, table, swarm)
      if (targetMs == null && fill >= target) targetMs = at
      if (fill >= 1) return { firstEntryMs, targetMs, fullMs: at, fill, id: joined.id }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return { firstEntryMs, targetMs, fullMs: null, fill, id: joined.id }
  },
  async stop() {
    await Promise.allSettled(peers.map((p) => p.stop()))
    setTimeout(() => process.exit(0), 10)
    return null
  }
}

process.on('message', (message: LabRequest) => {
  const handler = handlers[message.op] as (input: unknown) => Promise<unknown>
  handler(message.input).then(
    (output) => process.send?.({ id: message.id, ok: true, output } satisfies LabReply),
    (err: unknown) =>
      process.send?.({
        id: message.id,
        ok: false,
        error: (err as Error).stack ?? String(err)
      } satisfies LabReply)
  )
})
// The controller going away (even by kill -9) ends the worker: never leave peers behind.
process.on('disconnect', () => process.exit(0))
