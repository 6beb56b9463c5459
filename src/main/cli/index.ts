#!/usr/bin/env node
/** CLI entry point: `npm run cli -- <command>` or the `swarm-inspector` bin. */
import { runCli } from './program.ts'

const code = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n')
})
process.exitCode = code
