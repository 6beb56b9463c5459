/**
 * The TypeScript under gen/ directories is generated from proto/ by one script (`npm run generate`): the bridge's
 * from proto/script.proto, the DHT wire message from proto/kad_dht.proto. The committed output must be what that
 * script produces today.
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as prettier from 'prettier'
import { expect, test } from 'vitest'

test.each([
  { template: 'buf.gen.yaml', file: 'src/shared/bridge/gen/script_pb.ts' },
  { template: 'buf.gen.kad-dht.yaml', file: 'src/main/peer/gen/kad_dht_pb.ts' }
])('$file is up to date with its proto', async ({ template, file }) => {
  const out = await mkdtemp(join(tmpdir(), 'swarm-inspector-gen-'))
  try {
    execFileSync(join('node_modules', '.bin', 'buf'), ['generate', '--template', template, '--output', out], {
      stdio: 'pipe'
    })
    const options = { ...(await prettier.resolveConfig(file)), filepath: file }
    const fresh = await prettier.format(await readFile(join(out, file), 'utf8'), options)
    expect(fresh).toBe(await readFile(file, 'utf8'))
  } finally {
    await rm(out, { recursive: true, force: true })
  }
})
