/**
 * Connection liveness by yamux PING frames: two real libp2p nodes talk through a TCP relay that can be made to
 * swallow every byte without closing anything (what a cable pulled between two hosts looks like to both ends).
 * A healthy connection must survive many ping rounds; a swallowed one must be aborted on both sides. The same relay
 * with plain yamux (and libp2p's monitor off) keeps the dead connection, which is what makes the test able to fail.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p, type Libp2pOptions } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { yamuxWithLiveness } from '../../../src/main/peer/connection-liveness.ts'

const LIVENESS = { intervalMs: 200, timeoutMs: 300 }

/** A TCP relay to `target`; `swallow()` makes it drop every byte in both directions while keeping sockets open. */
async function startRelay(targetPort: number): Promise<{ port: number; swallow(): void; close(): void }> {
  let swallowing = false
  const sockets: Socket[] = []
  const server: Server = createServer((inbound) => {
    const outbound = connect(targetPort, '127.0.0.1')
    sockets.push(inbound, outbound)
    inbound.on('data', (chunk) => swallowing || outbound.write(chunk))
    outbound.on('data', (chunk) => swallowing || inbound.write(chunk))
    inbound.on('error', () => outbound.destroy())
    outbound.on('error', () => inbound.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address == null || typeof address === 'string') throw new Error('relay did not bind')
  return {
    port: address.port,
    swallow: () => (swallowing = true),
    close: () => {
      for (const s of sockets) s.destroy()
      server.close()
    }
  }
}

const nodes: Libp2p[] = []
const relays: Array<{ close(): void }> = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
  for (const r of relays.splice(0)) r.close()
})

async function startNode(muxer: NonNullable<Libp2pOptions['streamMuxers']>[number]): Promise<Libp2p> {
  const node = await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [muxer],
    connectionMonitor: { enabled: false }
  })
  nodes.push(node)
  return node
}

/** Node a connected to node b through a relay; resolves once both ends see the connection. */
async function connectedPair(muxer: () => NonNullable<Libp2pOptions['streamMuxers']>[number]) {
  const [a, b] = [await startNode(muxer()), await startNode(muxer())]
  const port = Number(
    b
      .getMultiaddrs()[0]!
      .getComponents()
      .find((c) => c.name === 'tcp')!.value
  )
  const relay = await startRelay(port)
  relays.push(relay)
  await a.dial(multiaddr(`/ip4/127.0.0.1/tcp/${relay.port}/p2p/${b.peerId}`))
  await expect.poll(() => b.getConnections(a.peerId).length).toBe(1)
  return { a, b, relay }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('connection liveness by yamux pings', () => {
  it('keeps a healthy connection through many ping rounds', async () => {
    const { a, b } = await connectedPair(() => yamuxWithLiveness(LIVENESS))
    const [first] = a.getConnections(b.peerId)
    await sleep(LIVENESS.intervalMs * 8)
    expect(a.getConnections(b.peerId)).toEqual([first])
    expect(first!.status).toBe('open')
  })

  it('pings an idle connection from one end at a time', async () => {
    // Each node's muxer factory has its own rounds; count them and the pings they send.
    const counts = { rounds: [0, 0], pings: 0 }
    let nodeIndex = 0
    const { a, b } = await connectedPair(() => {
      const i = nodeIndex++
      return yamuxWithLiveness({
        ...LIVENESS,
        onRound: (pinged) => {
          counts.rounds[i]!++
          counts.pings += pinged
        }
      })
    })
    await sleep(LIVENESS.intervalMs * 2)
    const [rounds0, pings0] = [Math.min(...counts.rounds), counts.pings]
    await sleep(LIVENESS.intervalMs * 10)
    const rounds = Math.min(...counts.rounds) - rounds0
    const pings = counts.pings - pings0
    expect(rounds).toBeGreaterThan(3)
    // Each end pinging every round makes 2 a round; taking turns, the two ends make 1 or fewer.
    expect(pings).toBeGreaterThan(0)
    expect(pings).toBeLessThanOrEqual(rounds * 1.25)
    expect(a.getConnections(b.peerId)[0]?.status).toBe('open')
  })

  it('aborts the connection on both ends once pings go unanswered', async () => {
    const { a, b, relay } = await connectedPair(() => yamuxWithLiveness(LIVENESS))
    relay.swallow()
    // The last thing received may spare the next round's ping: two rounds, then the timeout.
    const within = 2 * LIVENESS.intervalMs + LIVENESS.timeoutMs + 1_000
    await expect.poll(() => a.getConnections(b.peerId).length, { timeout: within }).toBe(0)
    await expect.poll(() => b.getConnections(a.peerId).length, { timeout: within }).toBe(0)
  })

  it('plain yamux keeps the dead connection (the check is what closes it)', async () => {
    const { a, b, relay } = await connectedPair(() => yamux())
    relay.swallow()
    await sleep(LIVENESS.intervalMs + LIVENESS.timeoutMs + 1_000)
    expect(a.getConnections(b.peerId)).toHaveLength(1)
  })
})
