/**
 * `serve` runs with the V8 settings of a peer's process (src/main/peer/process-flags.ts): it replaces itself, same
 * process id, with one that has them, unless whoever started it chose a young-generation size.
 */
import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { afterEach, describe, expect, test } from 'vitest'
import { hasPeerProcessFlags, PEER_PROCESS_V8_FLAGS } from '../../../src/main/peer/process-flags.ts'
import { startServe, type ServeProcess } from '../../helpers/processes.ts'
import { tempDir } from '../../helpers/swarm.ts'

const started: ServeProcess[] = []
const dirs: string[] = []
const savedNodeOptions = process.env.NODE_OPTIONS

afterEach(async () => {
  if (savedNodeOptions == null) delete process.env.NODE_OPTIONS
  else process.env.NODE_OPTIONS = savedNodeOptions
  await Promise.all(started.splice(0).map((p) => p.stop()))
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

async function serveCommandLine(): Promise<string[]> {
  const dir = await tempDir()
  dirs.push(dir)
  const serve = await startServe(dir)
  started.push(serve)
  return (await readFile(`/proc/${serve.child.pid}/cmdline`, 'utf8')).split('\0')
}

// Linux shows a process's command line in /proc; Node has execve from 22.15.
const canRelaunch = existsSync('/proc/self/cmdline') && typeof process.execve === 'function'

describe('the V8 settings of a peer process', () => {
  test('are recognised however they were given', () => {
    expect(hasPeerProcessFlags([], undefined)).toBe(false)
    expect(hasPeerProcessFlags(['--import', 'tsx'], '--max-old-space-size=512')).toBe(false)
    expect(hasPeerProcessFlags(PEER_PROCESS_V8_FLAGS, undefined)).toBe(true)
    expect(hasPeerProcessFlags(['--max_semi_space_size=32'], undefined)).toBe(true)
    expect(hasPeerProcessFlags([], '--trace-gc --max-semi-space-size=16')).toBe(true)
    expect(hasPeerProcessFlags(['--max-heap-size=512'], undefined)).toBe(true)
    expect(hasPeerProcessFlags([], '--min-semi-space-size=2')).toBe(true)
  })

  test.skipIf(!canRelaunch)('serve relaunches itself with them, in the same process', async () => {
    const args = await serveCommandLine()
    for (const flag of PEER_PROCESS_V8_FLAGS) expect(args).toContain(flag)
    expect(args).toContain('serve')
  })

  test.skipIf(!canRelaunch)('serve keeps a young-generation size it was given', async () => {
    process.env.NODE_OPTIONS = '--max-semi-space-size=16'
    const args = await serveCommandLine()
    for (const flag of PEER_PROCESS_V8_FLAGS) expect(args).not.toContain(flag)
    expect(args).toContain('serve')
  })
})
