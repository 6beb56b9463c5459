/**
 * Put and get round trips per second through the SDK bridge (native gRPC on the Unix socket, and gRPC-web on the
 * API port) and through the inspector's HTTP API: the same 3-peer swarm of `serve` processes, the same run.
 *   npm run bench
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createHttpClient } from '../src/shared/http-client.ts'
import { Client, Connection } from '../src/sdk/index.ts'
import { cli, startServe, type ServeProcess } from '../test/helpers/processes.ts'
import { tempDir } from '../test/helpers/swarm.ts'

const OPS = 300
const dirs = [await tempDir(), await tempDir(), await tempDir()]
const peers: ServeProcess[] = []
try {
  peers.push(await startServe(dirs[0]!))
  peers.push(
    ...(await Promise.all(dirs.slice(1).map((d) => startServe(d, ['--bootstrap', peers[0]!.addresses[0]!]))))
  )
  await cli(['dial', peers[1]!.addresses[0]!, '--api', peers[2]!.url])
  const target = peers[1]!

  const measure = async (
    name: string,
    put: (k: string) => Promise<unknown>,
    get: (k: string) => Promise<unknown>
  ) => {
    const t = performance.now()
    for (let i = 0; i < OPS; i++) {
      await put(`${name}-${i}`)
      await get(`${name}-${i}`)
    }
    const seconds = (performance.now() - t) / 1000
    return { name, roundTripsPerSecond: Math.round((2 * OPS) / seconds) }
  }

  const api = createHttpClient({ baseUrl: target.url })
  process.env['HYVEOS_BRIDGE_SOCKET'] = join(target.dataDir, 'bridge.sock')
  const socketConnection = new Connection()
  const socket = new Client(socketConnection)
  const web = new Client(new Connection(target.url))
  const value = new TextEncoder().encode('1h')
  const results = [
    await measure(
      'inspector HTTP API',
      (k) => api.putRecord({ topic: 'bench', key: k, value }),
      (k) => api.getRecord({ topic: 'bench', key: k })
    ),
    await measure(
      'bridge: gRPC over the Unix socket',
      (k) => socket.dht.putRecord('bench', k, value),
      (k) => socket.dht.getRecord('bench', k)
    ),
    await measure(
      'bridge: gRPC-web on the API port',
      (k) => web.dht.putRecord('bench', k, value),
      (k) => web.dht.getRecord('bench', k)
    )
  ]
  await socketConnection.close()
  console.log(
    `put+get round trips per second against one peer of a 3-peer swarm (${OPS} of each, sequential)`
  )
  for (const r of results) console.log(`${r.name.padEnd(36)} ${String(r.roundTripsPerSecond).padStart(6)} /s`)
  await mkdir('.bench-results', { recursive: true })
  await writeFile(
    '.bench-results/bridge-throughput.json',
    JSON.stringify({ operations: OPS, results }, null, 2) + '\n'
  )
} finally {
  await Promise.all(peers.map((p) => p.stop()))
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
}
