/**
 * The bridge's TypeScript is generated from proto/script.proto by one script (`npm run generate`); the committed
 * output must be what that script produces today.
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as prettier from 'prettier'
import { expect, test } from 'vitest'

test('src/shared/bridge/gen is up to date with proto/script.proto', async () => {
  const out = await mkdtemp(join(tmpdir(), 'swarm-inspector-gen-'))
  try {
    execFileSync(join('node_modules', '.bin', 'buf'), ['generate', '--output', out], { stdio: 'pipe' })
    const file = 'src/shared/bridge/gen/script_pb.ts'
    const options = { ...(await prettier.resolveConfig(file)), filepath: file }
    const fresh = await prettier.format(await readFile(join(out, file), 'utf8'), options)
    expect(fresh).toBe(await readFile(file, 'utf8'))
  } finally {
    await rm(out, { recursive: true, force: true })
  }
})
