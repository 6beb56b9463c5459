/**
 * The CI and release workflows stay valid: each is checked by action-validator (from the npm registry) against
 * GitHub's workflow schema, and a broken workflow is shown to fail the same check.
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'vitest'

const validator = join('node_modules', '.bin', 'action-validator')
const check = (file: string) => spawnSync(validator, [file], { encoding: 'utf8' })

test('every workflow passes action-validator', async () => {
  const files = (await readdir('.github/workflows')).filter((f) => f.endsWith('.yml'))
  expect(files.sort()).toEqual(['ci.yml', 'release.yml'])
  for (const file of files) {
    const result = check(join('.github/workflows', file))
    expect(result.status, `${file}: ${result.stdout}${result.stderr}`).toBe(0)
  }
})

test('a broken workflow is caught by the same check', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'swarm-inspector-wf-'))
  try {
    const bad = join(dir, 'bad.yml')
    await writeFile(bad, 'name: bad\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    stepz: []\n')
    expect(check(bad).status).not.toBe(0)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
