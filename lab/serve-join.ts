/**
 * Times a real `serve` process joining a running swarm of our peers, as a robot that boots and runs
 * `swarm-inspector serve --bootstrap …` does: from the moment the process is spawned (Node's start, serve's relaunch
 * with the peer's V8 settings, loading the modules, deriving the identity's key from the passphrase, opening
 * LevelDB, the API) to its API answering, its first routing-table entry, 90 % of its ideal table and a full one.
 * The table is read through the local API every POLL_MS, as scripts and the UI read it. `lab.join` times a peer
 * started inside a worker that is already running, which leaves all of that start-up out; this is the figure a user
 * waits for.
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHttpClient } from '../src/shared/http-client.ts'
import { startServe, type ServeProcess } from '../test/helpers/processes.ts'
import { tableFill } from './ideal-table.ts'
import type { SwarmLab } from './swarm-lab.ts'

export interface ServeJoinSample {
  /** The joining peer's id. */
  id: string
  /** Spawn to the API answering (serve prints its API address once it listens). */
  apiMs: number
  /** Spawn to the first routing-table entry, to `target` of the ideal table, to a full table (null: not within the time). */
  firstEntryMs: number | null
  targetMs: number | null
  fullMs: number | null
  /** How full the table was when timing stopped, 0..1. */
  fill: number
  /** The serve process's resident memory once its table was full (or the time was up), from /proc; null elsewhere. */
  rssMb: number | null
}

export interface ServeJoinOptions {
  /** Fill (0..1) whose time is `targetMs`. */
  target: number
  /** Gives up on a full table after this long from spawn. */
  timeoutMs: number
  /** How often the table is read through the API. @default POLL_MS */
  pollMs?: number
}

/**
 * Every reading builds the whole routing-table view inside the serve process (a peer-store read per entry), so the
 * polling itself costs the process being timed some CPU: a tenth of a second is fine-grained enough for figures in
 * seconds.
 */
const POLL_MS = 100
/** How long serve gets to stop on SIGTERM before it is killed. */
const STOP_GRACE_MS = 10_000

export async function timeServeJoin(lab: SwarmLab, options: ServeJoinOptions): Promise<ServeJoinSample> {
  const seed = lab.alive[0]
  if (seed == null) throw new Error('no live peer to join through')
  const dataDir = await mkdtemp(join(tmpdir(), 'swarm-lab-serve-'))
  let serve: ServeProcess | undefined
  try {
    const started = performance.now()
    serve = await startServe(dataDir, ['--bootstrap', seed.addrs[0]!, '--no-bridge'])
    const apiMs = performance.now() - started
    const client = createHttpClient({ baseUrl: serve.url })
    // The ideal table is computed from the lab's live peers at the start: the swarm is not changing meanwhile.
    const swarm = lab.alive.map((p) => p.id)
    let firstEntryMs: number | null = null
    let targetMs: number | null = null
    let fullMs: number | null = null
    let fill = 0
    while (performance.now() - started < options.timeoutMs) {
      // A reading that does not come within a few seconds is skipped; the time limit is the loop's.
      const view = await client.routingTable({}, { signal: AbortSignal.timeout(5_000) }).catch(() => null)
      const at = performance.now() - started
      const table = view?.buckets.flatMap((bucket) => bucket.peers.map((peer) => peer.peerId)) ?? []
      if (firstEntryMs == null && table.length > 0) firstEntryMs = at
      if (view != null) fill = tableFill(serve.peerId, table, swarm)
      if (targetMs == null && fill >= options.target) targetMs = at
      if (fill >= 1) {
        fullMs = at
        break
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? POLL_MS))
    }
    return {
      id: serve.peerId,
      apiMs,
      firstEntryMs,
      targetMs,
      fullMs,
      fill,
      rssMb: await residentMb(serve.child.pid)
    }
  } finally {
    if (serve != null) await stopWithin(serve, STOP_GRACE_MS)
    await rm(dataDir, { recursive: true, force: true })
  }
}

/** SIGTERM, and SIGKILL if the process has not exited after `graceMs`: a stuck serve must not hang the bench. */
async function stopWithin(serve: ServeProcess, graceMs: number): Promise<void> {
  const exited = serve.stop()
  const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), graceMs).unref())
  if ((await Promise.race([exited, timer])) === 'late') await serve.stop('SIGKILL')
}

/** VmRSS of a process in MB (Linux); null where /proc does not say. */
async function residentMb(pid: number | undefined): Promise<number | null> {
  if (pid == null) return null
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]
    return kb == null ? null : Number(kb) / 1024
  } catch {
    return null
  }
}
