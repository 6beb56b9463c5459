/**
 * Two `serve` processes configured with the same ports both run: the second moves to free ports and says so.
 */
import { rm } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { afterAll, expect, test } from 'vitest'
import { startServe, type ServeProcess } from '../../helpers/processes.ts'
import { tempDir } from '../../helpers/swarm.ts'

const started: ServeProcess[] = []
const dirs: string[] = []
afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()))
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

/** A port that was free a moment ago (the OS picks it; nothing is hard-coded). */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

test('a taken listen or API port moves to a free one, said in one line, and the actual ports are shown', async () => {
  const [p2p, api] = [await freePort(), await freePort()]
  const args = ['--listen', `/ip4/127.0.0.1/tcp/${p2p}`, '--api', `127.0.0.1:${api}`, '--no-bridge']
  dirs.push(await tempDir(), await tempDir())
  const first = await startServe(dirs[0]!, args)
  started.push(first)
  const second = await startServe(dirs[1]!, args)
  started.push(second)

  expect(first.url).toBe(`http://127.0.0.1:${api}`)
  expect(first.addresses[0]).toContain(`/tcp/${p2p}/`)
  expect(first.output.join('\n')).not.toMatch(/^note/m)

  const notes = second.output.filter((line) => line.startsWith('note'))
  expect(notes).toEqual([
    expect.stringMatching(
      new RegExp(`tcp port ${p2p} on 127\\.0\\.0\\.1 is in use; listening on a free port instead`)
    ),
    expect.stringMatching(
      new RegExp(`API port ${api} on 127\\.0\\.0\\.1 is in use; the API listens on port \\d+ instead`)
    )
  ])
  expect(second.url).not.toBe(first.url)
  expect(second.addresses[0]).not.toContain(`/tcp/${p2p}/`)
  // Both answer, and the second tells its API clients (and the UI) the same.
  const info = (await (await fetch(`${second.url}/api/v1/nodeInfo`, { method: 'POST' })).json()) as {
    value: { notices: string[] }
  }
  expect(info.value.notices).toHaveLength(2)
  expect((await fetch(`${first.url}/api/v1/ownId`, { method: 'POST' })).status).toBe(200)
})
