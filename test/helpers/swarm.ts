/**
 * Spawns real swarm peers on loopback with temporary data directories, and waits for conditions (never sleeps).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SwarmPeer, type SwarmPeerInit } from '../../src/main/peer/swarm-peer.ts'

export const PASSPHRASE = 'correct horse battery staple'

export async function tempDir(prefix = 'swarm-inspector-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

/** Each spawned peer's data directory, so that teardown can remove it even after the peer was stopped. */
const dataDirs = new WeakMap<SwarmPeer, string>()

export async function spawnPeer(init: Partial<SwarmPeerInit> = {}): Promise<SwarmPeer> {
  const dataDir = init.dataDir ?? (await tempDir())
  const peer = await SwarmPeer.start({
    passphrase: PASSPHRASE,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    mdns: false,
    quic: false,
    ...init,
    dataDir
  })
  dataDirs.set(peer, dataDir)
  return peer
}

export async function spawnSwarm(n: number, init: Partial<SwarmPeerInit> = {}): Promise<SwarmPeer[]> {
  const first = await spawnPeer(init)
  const bootstrap = first.node.getMultiaddrs().map(String)
  const rest = await Promise.all(Array.from({ length: n - 1 }, () => spawnPeer({ ...init, bootstrap })))
  const peers = [first, ...rest]
  // Full connectivity through the bootstrap peer is not guaranteed; make every peer know a few others.
  for (const [i, peer] of peers.entries()) {
    const next = peers[(i + 1) % n]
    if (next != null && next !== peer)
      await peer.dial({ multiaddr: next.node.getMultiaddrs()[0]!.toString() }, {})
  }
  await waitFor(
    async () =>
      peers.every(
        (p) =>
          (p.node.services.dht as unknown as { routingTable: { size: number } }).routingTable.size >=
          Math.min(n - 1, 3)
      ),
    'routing tables to fill'
  )
  return peers
}

/** Stops the peers (those a test stopped already too: stopping is idempotent) and removes their data directories. */
export async function teardown(peers: SwarmPeer[]): Promise<void> {
  await Promise.all(
    peers.map(async (p) => {
      const dir = dataDirs.get(p) ?? (await p.nodeInfo({}, {})).dataDir
      await p.stop()
      await rm(dir, { recursive: true, force: true })
    })
  )
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) out.push(item)
  return out
}
