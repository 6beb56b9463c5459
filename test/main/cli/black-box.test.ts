/**
 * Black box: three `serve` processes, driven only through the CLI and HTTP, as a robot's scripts would.
 */
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { cli, raw, startServe, type RawResponse, type ServeProcess } from '../../helpers/processes.ts'
import { tempDir } from '../../helpers/swarm.ts'

let a: ServeProcess
let b: ServeProcess
let c: ServeProcess
const dirs: string[] = []

beforeAll(async () => {
  for (let i = 0; i < 3; i++) dirs.push(await tempDir())
  a = await startServe(dirs[0]!)
  ;[b, c] = await Promise.all([
    startServe(dirs[1]!, ['--bootstrap', a.addresses[0]!]),
    startServe(dirs[2]!, ['--bootstrap', a.addresses[0]!])
  ])
  // Wait until the three know each other (the CLI is the only way in).
  for (const p of [a, b, c]) {
    for (let i = 0; i < 200; i++) {
      const peers = await cli(['peers', '--api', p.url, '--json'])
      if ((JSON.parse(peers.stdout) as unknown[]).length >= 1) break
    }
  }
  await cli(['dial', b.addresses[0]!, '--api', c.url])
})

afterAll(async () => {
  await Promise.all([a, b, c].map((p) => p?.stop()))
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

describe('three serve processes driven by the CLI', () => {
  test('id prints the peer id printed at start', async () => {
    const result = await cli(['id', '--api', a.url])
    expect(result.code).toBe(0)
    expect(result.stdout.trim()).toBe(a.peerId)
  })

  test('put on one, get from the others, in every encoding', async () => {
    const put = await cli(['put', 'charging_pause', 'robot-1', '1h', '--api', a.url])
    expect(put.code, put.stderr).toBe(0)
    expect(put.stdout).toMatch(/stored on [1-9]\d* of \d+ peer\(s\)/)
    const get = await cli(['get', 'charging_pause', 'robot-1', '--api', b.url])
    expect(get.code, get.stderr).toBe(0)
    expect(get.stdout.trim()).toBe('1h')

    const json = await cli([
      'put',
      'status',
      'robot-1',
      '{"battery": 83}',
      '--encoding',
      'cbor',
      '--api',
      b.url
    ])
    expect(json.code, json.stderr).toBe(0)
    const decoded = await cli(['get', 'status', 'robot-1', '--decode', 'cbor', '--api', c.url, '--json'])
    expect(decoded.code, decoded.stderr).toBe(0)
    const body = JSON.parse(decoded.stdout) as { value: string; publisher: string; encoding: string }
    expect(JSON.parse(body.value)).toEqual({ battery: 83 })
    expect(body.publisher).toBe(b.peerId)

    const hex = await cli(['put', 'blob', 'k', 'de ad be ef', '--encoding', 'hex', '--api', c.url])
    expect(hex.code, hex.stderr).toBe(0)
    expect((await cli(['get', 'blob', 'k', '--api', a.url])).stdout.trim()).toBe('deadbeef')
  })

  test('get of a missing record exits 1', async () => {
    const result = await cli(['get', 'charging_pause', 'nobody', '--api', c.url])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/no record/)
  })

  test('provide on two, providers from the third prints both, one JSON object per line', async () => {
    expect((await cli(['provide', 'capabilities', 'camera', '--api', a.url])).code).toBe(0)
    expect((await cli(['provide', 'capabilities', 'camera', '--api', b.url])).code).toBe(0)
    const result = await cli(['providers', 'capabilities', 'camera', '--api', c.url, '--json'])
    expect(result.code, result.stderr).toBe(0)
    const ids = result.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { peerId: string }).peerId)
    expect(ids.sort()).toEqual([a.peerId, b.peerId].sort())
    const none = await cli(['providers', 'capabilities', 'teleporter', '--api', c.url])
    expect(none.code).toBe(1)
  })

  test('peers, buckets and records inspect the node', async () => {
    const buckets = await cli(['buckets', '--api', a.url])
    expect(buckets.code).toBe(0)
    expect(buckets.stdout).toMatch(/bucket cpl=\d+/)
    const records = await cli(['records', '--topic', 'charging_pause', '--api', a.url, '--json'])
    expect(records.code).toBe(0)
    expect((JSON.parse(records.stdout) as Array<{ key: string }>).map((r) => r.key)).toContain('robot-1')
  })

  test('replicas reports what the closest peers hold', async () => {
    const result = await cli(['replicas', 'charging_pause', 'robot-1', '--api', c.url, '--json'])
    expect(result.code, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout) as { replicas: Array<{ status: string; peerId: string }> }
    expect(report.replicas.map((r) => r.peerId).sort()).toEqual([a.peerId, b.peerId].sort())
    expect(report.replicas.every((r) => r.status === 'holder')).toBe(true)
  })

  test('after a restart, identity, records and provided keys are still there', async () => {
    const idBefore = b.peerId
    expect(await b.stop('SIGTERM')).toBe(0)
    expect(b.output.join('\n')).toMatch(/stopped/)
    b = await startServe(dirs[1]!, ['--bootstrap', a.addresses[0]!])
    expect((await cli(['id', '--api', b.url])).stdout.trim()).toBe(idBefore)
    const records = await cli(['records', '--api', b.url, '--json'])
    const held = JSON.parse(records.stdout) as Array<{ topic: string; key: string; mine: boolean }>
    expect(held).toEqual(
      expect.arrayContaining([expect.objectContaining({ topic: 'status', key: 'robot-1', mine: true })])
    )
    const provided = await cli(['provided', '--api', b.url])
    expect(provided.stdout).toMatch(/capabilities\/camera/)
  })
})

describe('bad input never crashes the daemon', () => {
  const bad: Array<[string, string[], RegExp]> = [
    ['topic with /', ['put', 'a/b', 'k', 'v'], /must not contain "\/"/],
    ['empty topic', ['put', '', 'k', 'v'], /topic must not be empty/],
    ['empty key', ['get', 'topic', ''], /key must not be empty/],
    ['oversize value', ['put', 't', 'k', 'x'.repeat(70_000)], /limit is 65536/],
    ['invalid hex', ['put', 't', 'k', 'abc', '--encoding', 'hex'], /even number/],
    ['invalid JSON', ['put', 't', 'k', '{nope', '--encoding', 'json'], /invalid JSON/],
    ['malformed multiaddr', ['dial', '/ip4/not-an-ip/tcp/1'], /malformed multiaddr/],
    ['unknown encoding', ['put', 't', 'k', 'v', '--encoding', 'base99'], /Allowed choices/],
    ['missing value', ['put', 't', 'k'], /missing VALUE/]
  ]
  for (const [name, args, message] of bad) {
    test(`${name}: exit 2 with a clear message`, async () => {
      const result = await cli([...args, '--api', a.url])
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(message)
    })
  }

  test('unknown command: exit 2', async () => {
    const result = await cli(['frobnicate'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/unknown command/)
  })

  test('API unreachable: exit 3', async () => {
    const result = await cli(['id', '--api', 'http://127.0.0.1:9'])
    expect(result.code).toBe(3)
    expect(result.stderr).toMatch(/cannot reach/)
  })

  test('HTTP: wrong Host, foreign Origin, GET on a call, bad JSON and bad input are 4xx with a message', async () => {
    const json = { 'content-type': 'application/json' }
    const cases: Array<[Promise<RawResponse>, number, RegExp]> = [
      [
        raw(a.url, 'POST', '/api/v1/ownId', { host: 'localhost.evil.example:' + new URL(a.url).port }),
        403,
        /not this API/
      ],
      [raw(a.url, 'POST', '/api/v1/ownId', { origin: 'http://evil.example' }), 403, /cross-origin/],
      [raw(a.url, 'GET', '/api/v1/ownId'), 405, /must be called with POST/],
      [raw(a.url, 'DELETE', '/api/v1/ownId'), 405, /use POST/],
      [raw(a.url, 'POST', '/api/v1/putRecord', json, '{nope'), 400, /not valid JSON/],
      [
        raw(a.url, 'POST', '/api/v1/putRecord', { 'content-type': 'text/plain' }, '{}'),
        400,
        /application\/json/
      ],
      [raw(a.url, 'POST', '/api/v1/putRecord', json, '{"topic":"t"}'), 400, /invalid input for putRecord/],
      [raw(a.url, 'POST', '/api/v1/getRecord', json, '{"topic":"a/b","key":"k"}'), 400, /must not contain/],
      [raw(a.url, 'POST', '/api/v1/noSuchMethod'), 404, /unknown API method/]
    ]
    for (const [pending, status, message] of cases) {
      const response = await pending
      expect(response.status, response.body).toBe(status)
      expect(response.body).toMatch(message)
    }
    // Still alive and answering.
    expect((await cli(['id', '--api', a.url])).code).toBe(0)
  })
})
