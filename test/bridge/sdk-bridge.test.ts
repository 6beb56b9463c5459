/**
 * The hyveOS SDK bridge against a real 3-peer `serve` swarm: the seed's five examples written with our TypeScript
 * client (gRPC-web over the API port, and native gRPC over the Unix socket), the same calls from a generic gRPC
 * client that loads the .proto at run time (the path the Python and Rust SDKs use), and bad input.
 */
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Client, Connection } from '../../src/sdk/index.ts'
import { cli, raw, startServe, type ServeProcess } from '../helpers/processes.ts'
import { tempDir, waitFor } from '../helpers/swarm.ts'

let a: ServeProcess
let b: ServeProcess
let c: ServeProcess
const dirs: string[] = []
const socketOf = (p: ServeProcess): string => join(p.dataDir, 'bridge.sock')

beforeAll(async () => {
  for (let i = 0; i < 3; i++) dirs.push(await tempDir())
  a = await startServe(dirs[0]!)
  ;[b, c] = await Promise.all([
    startServe(dirs[1]!, ['--bootstrap', a.addresses[0]!]),
    startServe(dirs[2]!, ['--bootstrap', a.addresses[0]!, '--bridge-tcp', '127.0.0.1:0'])
  ])
  await cli(['dial', b.addresses[0]!, '--api', c.url])
  expect(a.output.join('\n')).toMatch(
    /^bridge\s+unix:.*bridge\.sock \(gRPC\), http:\/\/127\.0\.0\.1:\d+ \(gRPC-web, Connect\)$/m
  )
})

afterAll(async () => {
  await Promise.all([a, b, c].map((p) => p?.stop()))
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

describe("the seed's examples, with the TypeScript client", () => {
  test('over gRPC-web on the API port: put on one peer, get on another; provide, then getProviders elsewhere', async () => {
    // Example 1: obtain the DHT service handle.
    const transportA = new Connection(a.url)
    const clientA = new Client(transportA)
    const transportB = new Connection(b.url)
    const clientB = new Client(transportB)
    try {
      // Example 2: put a record under our own id.
      const id = await clientA.discovery.getOwnId()
      expect(id).toBe(a.peerId)
      await clientA.dht.putRecord('charging_pause', id, '1h')
      // Example 3: retrieve it from another peer; a missing record is null.
      const record = await clientB.dht.getRecord('charging_pause', id)
      expect(record).not.toBeNull()
      expect(new TextDecoder('utf-8').decode(record!)).toBe('1h')
      expect(await clientB.dht.getRecord('charging_pause', '012345678ABCDEF')).toBeNull()
      // Example 4: provide a capability (key as bytes).
      await clientA.dht.provide('capabilities', new TextEncoder().encode('camera'))
      // Example 5: find the nodes with a camera.
      const found: string[] = []
      for await (const provider of clientB.dht.getProviders('capabilities', 'camera')) found.push(provider)
      expect(found).toContain(a.peerId)
      // Local remove, stop providing.
      await clientB.dht.removeRecord('charging_pause', id)
      await clientA.dht.stopProviding('capabilities', 'camera')
    } finally {
      await transportA.close()
      await transportB.close()
    }
  })

  test('over native gRPC on the Unix socket, as a script started with `swarm-inspector run` finds it', async () => {
    const previous = process.env['HYVEOS_BRIDGE_SOCKET']
    process.env['HYVEOS_BRIDGE_SOCKET'] = socketOf(c)
    const transport = new Connection()
    const client = new Client(transport)
    try {
      expect(await client.discovery.getOwnId()).toBe(c.peerId)
      await client.dht.putRecord('status', 'robot-7', new Uint8Array([1, 2, 3]))
      const seen = new Client(new Connection(a.url))
      expect(await seen.dht.getRecord('status', 'robot-7')).toEqual(new Uint8Array([1, 2, 3]))
      // Neighbour events: first an init with the directly connected peers.
      const controller = new AbortController()
      for await (const event of client.discovery.subscribeEvents({ signal: controller.signal })) {
        expect(event.event.case).toBe('init')
        if (event.event.case === 'init')
          expect(event.event.value.peers.map((p) => p.peerId)).toContain(a.peerId)
        break
      }
    } finally {
      await transport.close()
      if (previous == null) delete process.env['HYVEOS_BRIDGE_SOCKET']
      else process.env['HYVEOS_BRIDGE_SOCKET'] = previous
    }
  })

  test('`swarm-inspector run -- CMD` gives the command the bridge socket', async () => {
    const result = await cli([
      'run',
      '--api',
      b.url,
      '--',
      process.execPath,
      '-e',
      'console.log(process.env.HYVEOS_BRIDGE_SOCKET)'
    ])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout.trim()).toBe(socketOf(b))
    const failing = await cli(['run', '--api', b.url, '--', process.execPath, '-e', 'process.exit(7)'])
    expect(failing.code).toBe(7)
  })
})

test('native gRPC also on a loopback TCP port when asked for', async () => {
  const tcp = /^bridge\s+.*?(127\.0\.0\.1:\d+) \(gRPC\)/m.exec(c.output.join('\n'))?.[1]
  expect(tcp, c.output.join('\n')).toBeDefined()
  const definition = await protoLoader.load(join(import.meta.dirname, '../../proto/script.proto'), {
    keepCase: true
  })
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    script: Record<string, grpc.ServiceClientConstructor>
  }
  const discovery = new pkg.script['Discovery']!(tcp!, grpc.credentials.createInsecure())
  const id = await new Promise<string>((resolve, reject) =>
    (
      discovery as unknown as {
        GetOwnId: (r: object, cb: (e: Error | null, r: { peer_id: string }) => void) => void
      }
    ).GetOwnId({}, (err, res) => (err != null ? reject(err) : resolve(res.peer_id)))
  )
  discovery.close()
  expect(id).toBe(c.peerId)
})

describe('a generic gRPC client loading the .proto at run time (the Python and Rust SDK path)', () => {
  type Unary = (
    req: object,
    cb: (err: grpc.ServiceError | null, res: Record<string, unknown>) => void
  ) => void
  let dht: grpc.Client &
    Record<string, Unary & ((req: object) => grpc.ClientReadableStream<{ peer_id: string }>)>
  let discovery: grpc.Client & Record<string, Unary & ((req: object) => grpc.ClientReadableStream<unknown>)>
  const call = (fn: Unary, req: object) =>
    new Promise<Record<string, unknown>>((resolve, reject) =>
      fn(req, (err, res) => (err != null ? reject(err) : resolve(res)))
    )

  beforeAll(async () => {
    const definition = await protoLoader.load(join(import.meta.dirname, '../../proto/script.proto'), {
      keepCase: true,
      defaults: false
    })
    const pkg = grpc.loadPackageDefinition(definition) as unknown as {
      script: Record<string, grpc.ServiceClientConstructor>
    }
    dht = new pkg.script['DHT']!(`unix:${socketOf(b)}`, grpc.credentials.createInsecure()) as typeof dht
    discovery = new pkg.script['Discovery']!(
      `unix:${socketOf(b)}`,
      grpc.credentials.createInsecure()
    ) as typeof discovery
  })
  afterAll(() => {
    dht?.close()
    discovery?.close()
  })

  test('put, get, provide and getProviders across peers', async () => {
    const key = { topic: { topic: 'charging_pause' }, key: Buffer.from('robot-42') }
    await call(dht['PutRecord']!.bind(dht), { key, value: { data: Buffer.from('30m') } })
    const aClient = new Client(new Connection(a.url))
    expect(new TextDecoder().decode((await aClient.dht.getRecord('charging_pause', 'robot-42'))!)).toBe('30m')
    const got = await call(dht['GetRecord']!.bind(dht), key)
    expect(Buffer.from((got['data'] as { data: Buffer }).data).toString()).toBe('30m')
    const missing = await call(dht['GetRecord']!.bind(dht), {
      topic: { topic: 'charging_pause' },
      key: Buffer.from('nobody')
    })
    expect(missing['data']).toBeUndefined()
    await call(dht['Provide']!.bind(dht), { topic: { topic: 'capabilities' }, key: Buffer.from('lidar') })
    const providers: string[] = []
    for await (const p of aClient.dht.getProviders('capabilities', 'lidar')) providers.push(p)
    expect(providers).toContain(b.peerId)
    const own = await call(discovery['GetOwnId']!.bind(discovery), {})
    expect(own['peer_id']).toBe(b.peerId)
  })

  test('bad input gets the right status and the server keeps serving', async () => {
    const status = async (p: Promise<unknown>): Promise<number> =>
      p.then(
        () => -1,
        (err: grpc.ServiceError) => err.code
      )
    // invalid topic
    const invalid = call(dht['PutRecord']!.bind(dht), {
      key: { topic: { topic: 'a/b' }, key: Buffer.from('k') },
      value: { data: Buffer.from('v') }
    })
    await expect(invalid).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(/must not contain/)
    })
    // oversize message
    expect(
      await status(
        call(dht['PutRecord']!.bind(dht), {
          key: { topic: { topic: 't' }, key: Buffer.from('k') },
          value: { data: Buffer.alloc(2 * 1024 * 1024) }
        })
      )
    ).toBe(grpc.status.RESOURCE_EXHAUSTED)
    // a value over the record limit but under the message limit
    expect(
      await status(
        call(dht['PutRecord']!.bind(dht), {
          key: { topic: { topic: 't' }, key: Buffer.from('k') },
          value: { data: Buffer.alloc(100_000) }
        })
      )
    ).toBe(grpc.status.INVALID_ARGUMENT)
    // unknown method and unknown service
    const unknown = (path: string) =>
      new Promise<number>((resolve) =>
        dht.makeUnaryRequest(
          path,
          (x: Buffer) => x,
          (x: Buffer) => x,
          Buffer.alloc(0),
          (err) => resolve(err?.code ?? -1)
        )
      )
    expect(await unknown('/script.DHT/Teleport')).toBe(grpc.status.UNIMPLEMENTED)
    expect(await unknown('/script.Nope/GetOwnId')).toBe(grpc.status.UNIMPLEMENTED)
    // malformed protobuf bytes for a real method: INTERNAL, as gRPC servers (grpc-go, connect) answer an
    // unparseable request
    const malformed = await new Promise<number>((resolve) =>
      dht.makeUnaryRequest(
        '/script.DHT/GetRecord',
        (x: Buffer) => x,
        (x: Buffer) => x,
        Buffer.from([0x0a, 0xff, 0xff, 0xff]),
        (err) => resolve(err?.code ?? -1)
      )
    )
    expect(malformed).toBe(grpc.status.INTERNAL)
    // a client that disconnects mid-stream
    const events = discovery['SubscribeEvents']!({})
    const cancelled = new Promise<number>((resolve) =>
      events.once('error', (err: grpc.ServiceError) => resolve(err.code))
    )
    await new Promise<void>((resolve) => events.once('data', () => resolve()))
    events.cancel()
    expect(await cancelled).toBe(grpc.status.CANCELLED)
    // ...and everything still answers, over both paths.
    expect((await call(discovery['GetOwnId']!.bind(discovery), {}))['peer_id']).toBe(b.peerId)
    expect(await new Client(new Connection(b.url)).discovery.getOwnId()).toBe(b.peerId)
    await waitFor(
      async () =>
        (
          await fetch(`${b.url}/api/v1/bridgeStatus`, { method: 'POST' }).then(
            (r) => r.json() as Promise<{ value: { calls: number } }>
          )
        ).value.calls > 5,
      'calls counted'
    )
  })

  test('over HTTP the bridge keeps the API rules: foreign origins refused, Connect errors for malformed bodies', async () => {
    const foreign = await raw(
      b.url,
      'POST',
      '/script.Discovery/GetOwnId',
      { origin: 'http://evil.example', 'content-type': 'application/json' },
      '{}'
    )
    expect(foreign.status).toBe(403)
    const connectJson = await raw(
      b.url,
      'POST',
      '/script.Discovery/GetOwnId',
      { 'content-type': 'application/json' },
      '{}'
    )
    expect(connectJson.status).toBe(200)
    expect(JSON.parse(connectJson.body)).toEqual({ peerId: b.peerId })
    const badJson = await raw(
      b.url,
      'POST',
      '/script.DHT/GetRecord',
      { 'content-type': 'application/json' },
      '{"topic": 5'
    )
    expect(badJson.status).toBe(400)
    expect(JSON.parse(badJson.body).code).toBe('invalid_argument')
    const garbage = await raw(
      b.url,
      'POST',
      '/script.DHT/GetRecord',
      { 'content-type': 'application/proto' },
      '\n\u00ff\u00ff'
    )
    expect(JSON.parse(garbage.body)).toMatchObject({
      code: 'internal',
      message: expect.stringMatching(/parse binary/)
    })
    const badTopic = await raw(
      b.url,
      'POST',
      '/script.DHT/GetRecord',
      { 'content-type': 'application/json' },
      '{"topic":{"topic":""},"key":"aw=="}'
    )
    expect(JSON.parse(badTopic.body)).toMatchObject({
      code: 'invalid_argument',
      message: 'topic must not be empty'
    })
  })
})
