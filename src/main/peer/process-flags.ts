/**
 * V8 settings for a process that hosts peers: `serve`, and the swarm lab's workers.
 *
 * V8 sizes a process's young generation from the machine's memory: on a 24 GiB machine it grows to two 64 MB
 * semi-spaces, and a busy peer fills them and keeps them resident. A DHT peer's allocations are small, short-lived
 * messages, which 8 MB semi-spaces hold as well. Measured here: one `serve` peer in a 50-peer swarm, through 300 puts
 * and gets, peaked at 269–275 MB RSS with V8's sizing and 170–178 MB with 8 MB semi-spaces, its CPU no higher; the
 * 100-peer lab went from 17.9 to 14.6 MB per peer; 20 peers in one process driving 600 lookups used the same CPU
 * with 4, 8, 16 MB semi-spaces or V8's own (8.7–9.7 s, two runs each; one run at 4 MB took 10.9 s).
 *
 * After each full collection V8 lets the old generation grow to a multiple of what survived before the next one, a
 * multiple it picks between 1.1 and 4 from how fast the process allocates against how fast it collects. A busy peer
 * allocates fast, so its heap grows by up to four times its live objects, which after a full GC are 2-3 MB per peer
 * (a 26-peer process with the table mesh: 61 MB). A settled 25-peer lab worker had 1,000-1,400 small anonymous
 * mappings resident (V8 takes its heap from the system in 256 KB pages), 10-14 MB per peer of its 14-18 MB RSS. `--heap-growing-percent=50` fixes the multiple at 1.5. The 100-peer lab went
 * from 15.4-17.4 MB per peer (three runs) to 12.1; 21 peers in one process putting 400 records, alternating three
 * times, went from 274-302 MB RSS to 230 MB at 20.1-21.3 against 18.9-24.4 ms of CPU per put (no difference
 * within the runs' spread; a multiple of 2 gave 261-266 MB).
 *
 * These can only be given when the process starts (V8 reads them once, as it builds the heap), so `serve` replaces
 * itself with a process that has them (see relaunchWithPeerFlags).
 */
import { accessSync, constants } from 'node:fs'

export const PEER_PROCESS_V8_FLAGS: readonly string[] = [
  '--max-semi-space-size=8',
  '--heap-growing-percent=50'
]

/** Flags that size the young generation: whoever started the process chose it. */
const YOUNG_GENERATION_FLAG = /(^|\s)--(max|min)[-_]semi[-_]space[-_]size\b|(^|\s)--max[-_]heap[-_]size\b/
/** A debugger attached to this process would be dropped by the relaunch, and --inspect-brk would pause twice. */
const INSPECT_FLAG = /(^|\s)--inspect/

const given = (flag: RegExp, execArgv: readonly string[], nodeOptions: string | undefined): boolean =>
  execArgv.some((arg) => flag.test(arg)) || flag.test(nodeOptions ?? '')

/**
 * Whether this process already has the peer flags, or was given a young-generation size by whoever started it (V8
 * refuses --max-heap-size together with both --max-old-space-size and --max-semi-space-size, so a heap size counts).
 */
export function hasPeerProcessFlags(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return given(YOUNG_GENERATION_FLAG, execArgv, nodeOptions)
}

/**
 * Replaces this process with the same command plus PEER_PROCESS_V8_FLAGS, unless it has them or a size of its own.
 * `execve` keeps the process id, the standard streams and the environment, so whoever started `serve` (a shell,
 * systemd, a test) still holds the same process and its output. It is not done
 *  - where Node has no `execve` (before 22.15) or refuses it (Windows, a worker thread, the permission model), nor
 *    when Node's binary is gone (a failed `execve` aborts the process instead of throwing);
 *  - under a debugger (`--inspect…`), which the new process would not have;
 *  - when the process has an IPC channel to its parent (started by `fork`, PM2, `node --watch`): Node has taken the
 *    channel's descriptor out of the environment, so the new process would have none.
 * The process then goes on with V8's sizing: only its memory is larger.
 */
export function relaunchWithPeerFlags(): void {
  const { execArgv, env } = process
  if (hasPeerProcessFlags(execArgv, env.NODE_OPTIONS) || given(INSPECT_FLAG, execArgv, env.NODE_OPTIONS))
    return
  if (process.channel != null || typeof process.execve !== 'function') return
  try {
    accessSync(process.execPath, constants.X_OK)
    process.execve(process.execPath, [
      process.execPath,
      ...PEER_PROCESS_V8_FLAGS,
      ...execArgv,
      ...process.argv.slice(1)
    ])
  } catch {
    // Refused before the process was replaced (see above): it goes on as it was started.
  }
}
