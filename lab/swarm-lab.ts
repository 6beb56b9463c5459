/**
 * The swarm lab's controller: starts N peers (ours or stock) as several worker processes on loopback — or inside
 * network namespaces — joins them through bootstrap peers, measures how close their routing tables are to the ideal
 * ones, and drives workloads through them. Used by `npm run bench` (bench/swarm-lab.ts) and the fault tests.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PEER_PROCESS_V8_FLAGS } from '../src/main/peer/process-flags.ts'
import { tableFill } from './ideal-table.ts'
import type {
  JoinSample,
  LabCommands,
  LabImpl,
  LabOp,
  LabReply,
  LabRequest,
  LookupSample,
  ProvidersSample,
  WorkerUsage
} from './lab-protocol.ts'

const WORKER = fileURLToPath(new URL('./lab-worker.ts', import.meta.url))
const REPO = fileURLToPath(new URL('..', import.meta.url))
/** Longer than any one command takes when things work (a worker starting 50 peers takes about 20 s here). */
const CALL_TIMEOUT_MS = 180_000

export interface SwarmLabInit {
  impl: LabImpl
  peers: number
  /** Worker processes the peers are spread over (the first one also holds the bootstrap peers). */
  workers: number
  /** Per worker: the network namespace it runs in (namespace mode); absent: the host's loopback. */
  namespaces?: string[]
  /** Per worker: the IPv4 address its peers listen on. @default 127.0.0.1 */
  hosts?: string[]
  republishIntervalMs?: number
  /** Ours: k, the bucket size and replication factor. @default 20 */
  kBucketSize?: number
  /**
   * A directory each worker writes a V8 CPU profile to when the lab stops (node's `--cpu-prof`), for finding where
   * a swarm's CPU goes. Open the `.cpuprofile` files in Chrome's DevTools (Performance) or read them with a script.
   */
  cpuProfileDir?: string
}

export interface LabPeerRef {
  index: number
  id: string
  addrs: string[]
  worker: number
  /** Index within its worker. */
  local: number
  alive: boolean
}

class LabWorker {
  private nextId = 1
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  exited = false

  constructor(readonly child: ChildProcess) {
    child.on('message', (reply: LabReply) => {
      const waiter = this.pending.get(reply.id)
      this.pending.delete(reply.id)
      if (reply.ok) waiter?.resolve(reply.output)
      else waiter?.reject(new Error(reply.error))
    })
    child.once('exit', (code, signal) => {
      this.exited = true
      for (const waiter of this.pending.values())
        waiter.reject(new Error(`lab worker exited (${code ?? signal})`))
      this.pending.clear()
    })
  }

  /** Rejects after `timeoutMs`: a worker stuck on one command must not stall a whole run (seen once, idle). */
  call<K extends LabOp>(
    op: K,
    input: LabCommands[K]['in'],
    timeoutMs = CALL_TIMEOUT_MS
  ): Promise<LabCommands[K]['out']> {
    if (this.exited) return Promise.reject(new Error('lab worker has exited'))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`lab worker did not answer ${op} within ${timeoutMs} ms`))
      }, timeoutMs)
      const settle =
        <T>(f: (v: T) => void) =>
        (v: T) => {
          clearTimeout(timer)
          f(v)
        }
      this.pending.set(id, { resolve: settle(resolve as (v: unknown) => void), reject: settle(reject) })
      this.child.send({ id, op, input } satisfies LabRequest<K>)
    })
  }
}

function forkWorker(namespace: string | undefined, cpuProfileDir: string | undefined): LabWorker {
  // Workers host peers, so they get the V8 settings `serve` runs with; stock peers run in the same workers.
  const profile = cpuProfileDir != null ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : []
  const node = [process.execPath, ...PEER_PROCESS_V8_FLAGS, ...profile, '--import', 'tsx', WORKER]
  const [command, ...args] = namespace != null ? ['ip', 'netns', 'exec', namespace, ...node] : node
  const child = spawn(command!, args, {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    serialization: 'advanced'
  })
  return new LabWorker(child)
}

export class SwarmLab {
  readonly peers: LabPeerRef[] = []

  private constructor(
    readonly impl: LabImpl,
    private readonly workers: LabWorker[],
    private readonly dataRoot: string,
    /** How long a worker that has stopped its peers gets to exit by itself (writing a CPU profile takes a while). */
    private readonly exitWaitMs: number
  ) {}

  static async start(init: SwarmLabInit): Promise<SwarmLab> {
    const count = Math.max(1, Math.min(init.workers, init.peers))
    const dataRoot = await mkdtemp(join(tmpdir(), `swarm-lab-${init.impl}-`))
    const workers = Array.from({ length: count }, (_, i) =>
      forkWorker(init.namespaces?.[i], init.cpuProfileDir)
    )
    // A worker of a long run writes a profile of a few minutes' samples, four of them at once on two cores.
    const lab = new SwarmLab(init.impl, workers, dataRoot, init.cpuProfileDir != null ? 30_000 : 5_000)
    try {
      const share = (w: number): number => Math.floor(init.peers / count) + (w < init.peers % count ? 1 : 0)
      const start = (w: number, bootstrap: string[]) =>
        workers[w]!.call('start', {
          impl: init.impl,
          peers: share(w),
          dataDir: join(dataRoot, `worker-${w}`),
          host: init.hosts?.[w] ?? '127.0.0.1',
          bootstrap,
          ...(init.republishIntervalMs != null ? { republishIntervalMs: init.republishIntervalMs } : {}),
          ...(init.kBucketSize != null ? { kBucketSize: init.kBucketSize } : {})
        })
      // The first worker's peers seed the swarm; every other peer bootstraps from three of them.
      lab.adopt(0, await start(0, []))
      const seeds = lab.peers.slice(0, 3).map((p) => p.addrs[0]!)
      const rest = await Promise.all(workers.slice(1).map((_, i) => start(i + 1, seeds)))
      rest.forEach((infos, i) => lab.adopt(i + 1, infos))
      return lab
    } catch (err) {
      await lab.stop()
      throw err
    }
  }

  private adopt(worker: number, infos: { id: string; addrs: string[] }[]): void {
    infos.forEach((info, local) =>
      this.peers.push({ ...info, index: this.peers.length, worker, local, alive: true })
    )
  }

  get alive(): LabPeerRef[] {
    return this.peers.filter((p) => p.alive)
  }

  private workerOf(peer: number): { worker: LabWorker; local: number } {
    const ref = this.peers[peer]
    if (ref == null || !ref.alive) throw new Error(`peer ${peer} is not running`)
    return { worker: this.workers[ref.worker]!, local: ref.local }
  }

  /** Each live peer's routing table (peer ids), in peer order. */
  async tables(): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>()
    await Promise.all(
      this.workers.map(async (worker, w) => {
        if (worker.exited) return
        const tables = await worker.call('tables', {})
        for (const ref of this.peers)
          if (ref.worker === w && ref.alive) out.set(ref.index, tables[ref.local] ?? [])
      })
    )
    return out
  }

  /** Mean and lowest fill of the live peers' routing tables against their ideal tables. */
  async fill(): Promise<{ mean: number; min: number }> {
    const swarm = this.alive.map((p) => p.id)
    const fills = [...(await this.tables())].map(([i, table]) => tableFill(this.peers[i]!.id, table, swarm))
    return {
      mean: fills.reduce((a, b) => a + b, 0) / Math.max(1, fills.length),
      min: Math.min(...fills)
    }
  }

  /** Polls the routing tables until their mean fill reaches `target` or the time is up. */
  async converge(target: number, timeoutMs: number): Promise<{ ms: number; mean: number; min: number }> {
    const started = performance.now()
    for (;;) {
      const fill = await this.fill()
      const ms = performance.now() - started
      if (fill.mean >= target || ms > timeoutMs) return { ms, ...fill }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }

  /**
   * Waits until the swarm is quiet: its processes together using less than `quietMsPerS` of CPU per second over one
   * window (`windowMs`, a second by default), or `timeoutMs` has passed. A swarm whose tables have converged can still
   * be busy for a while after (a hundred peers finishing their handshakes and crawls on two cores); lookups measured
   * in that storm measure the storm more than the lookups, and swing threefold between runs. Join figures are
   * measured separately (see join).
   */
  async settle(
    quietMsPerS: number,
    timeoutMs: number,
    windowMs = 1_000
  ): Promise<{ ms: number; cpuMsPerS: number }> {
    const started = performance.now()
    const cpuMs = async (): Promise<number> => (await this.onLiveWorkers('cpu')).reduce((n, ms) => n + ms, 0)
    for (;;) {
      const [cpu0, t0] = [await cpuMs(), performance.now()]
      await new Promise((resolve) => setTimeout(resolve, windowMs))
      const cpuMsPerS = ((await cpuMs()) - cpu0) / ((performance.now() - t0) / 1_000)
      const ms = performance.now() - started
      if (cpuMsPerS < quietMsPerS || ms > timeoutMs) return { ms, cpuMsPerS }
    }
  }

  put(peer: number, topic: string, key: string, value: Uint8Array): Promise<LookupSample> {
    const { worker, local } = this.workerOf(peer)
    return worker.call('put', { peer: local, topic, key, value })
  }

  get(peer: number, topic: string, key: string, expect: Uint8Array | null): Promise<LookupSample> {
    const { worker, local } = this.workerOf(peer)
    return worker.call('get', { peer: local, topic, key, expect })
  }

  provide(peer: number, topic: string, key: string): Promise<LookupSample> {
    const { worker, local } = this.workerOf(peer)
    return worker.call('provide', { peer: local, topic, key })
  }

  findProviders(peer: number, topic: string, key: string, expect: string[]): Promise<ProvidersSample> {
    const { worker, local } = this.workerOf(peer)
    return worker.call('findProviders', { peer: local, topic, key, expect })
  }

  /** Republish on every live peer now (ours; stock has no such operation). */
  async republish(): Promise<void> {
    await this.onLiveWorkers('republish')
  }

  /** The live peers whose own store holds a record under the key (where it lives: what a failed get is checked by). */
  async holders(topic: string, key: string): Promise<number[]> {
    const out: number[] = []
    await Promise.all(
      this.workers.map(async (worker, w) => {
        if (worker.exited) return
        const holds = await worker.call('holders', { topic, key })
        for (const ref of this.peers)
          if (ref.worker === w && ref.alive && holds[ref.local] === true) out.push(ref.index)
      })
    )
    return out.sort((a, b) => a - b)
  }

  /** Memory and CPU per peer, summed over the live workers. */
  async usage(): Promise<{
    rssMbPerPeer: number
    heapMbPerPeer: number
    cpuMsPerPeer: number
    connectionsPerPeer: number
  }> {
    const all = await this.onLiveWorkers('usage')
    const peers = all.reduce((n, u) => n + u.peers, 0)
    const per = (f: (u: WorkerUsage) => number): number => all.reduce((n, u) => n + f(u), 0) / peers
    return {
      rssMbPerPeer: per((u) => u.rssBytes) / 2 ** 20,
      heapMbPerPeer: per((u) => u.heapUsedBytes) / 2 ** 20,
      cpuMsPerPeer: per((u) => u.cpuMs),
      connectionsPerPeer: per((u) => u.connections)
    }
  }

  /** Runs a command that takes no input on every live worker; their answers, in worker order. */
  private onLiveWorkers<K extends 'cpu' | 'usage' | 'republish'>(op: K): Promise<LabCommands[K]['out'][]> {
    return Promise.all(this.workers.filter((w) => !w.exited).map((w) => w.call(op, {})))
  }

  /** Starts one more peer in `worker`, bootstrapped from a live peer, and times its table filling up. */
  async join(worker: number, target: number, timeoutMs: number): Promise<JoinSample> {
    const seed = this.alive[0]
    if (seed == null) throw new Error('no live peer to join through')
    const sample = await this.workers[worker]!.call('join', {
      bootstrap: [seed.addrs[0]!],
      swarm: this.alive.map((p) => p.id),
      target,
      timeoutMs
    })
    const local = this.peers.filter((p) => p.worker === worker).length
    this.peers.push({ index: this.peers.length, id: sample.id, addrs: [], worker, local, alive: true })
    return sample
  }

  /** kill -9 a whole worker: its peers vanish without a goodbye. */
  async kill(worker: number): Promise<void> {
    const w = this.workers[worker]!
    const exited = new Promise((resolve) => (w.exited ? resolve(null) : w.child.once('exit', resolve)))
    w.child.kill('SIGKILL')
    await exited
    for (const ref of this.peers) if (ref.worker === worker) ref.alive = false
  }

  async stop(): Promise<void> {
    await Promise.allSettled(
      this.workers.map(async (w) => {
        if (w.exited) return
        const exited = new Promise((resolve) => w.child.once('exit', resolve))
        const within = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref())
        await Promise.race([w.call('stop', {}).catch(() => {}), within(5_000)])
        // A worker that has stopped its peers exits by itself (writing its CPU profile, if asked for one); one that
        // does not is killed.
        await Promise.race([exited, within(this.exitWaitMs)])
        if (!w.exited) w.child.kill('SIGKILL')
        await exited
      })
    )
    await rm(this.dataRoot, { recursive: true, force: true })
  }
}
