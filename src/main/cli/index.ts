#!/usr/bin/env node
/** CLI entry point: `npm run cli -- <command>` or the `swarm-inspector` bin. */
import { relaunchWithPeerFlags } from '../peer/process-flags.ts'

// Before the CLI's modules load: `serve` hosts a peer and replaces itself with a process sized for one.
if (process.argv[2] === 'serve') relaunchWithPeerFlags()

const { runCli } = await import('./program.ts')
const code = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n')
})
process.exitCode = code
