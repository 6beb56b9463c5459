/**
 * Identify a moment after a connection opens (deferred-identify.ts): a connection's first request is answered
 * before identify has run on it, identify still runs on both ends afterwards, a connection closed before then is
 * left alone, and our peers still learn each other's protocols. With libp2p's default (identify the moment a
 * connection opens) the first test's "before" fails: identify's exchange is under way before the request is sent.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, type Identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import { afterOpen, identifyAfterOpen } from '../../../src/main/peer/deferred-identify.ts'
import { DEFAULT_DHT_PROTOCOL } from '../../../src/shared/swarm-defaults.ts'
import type { Connection } from '@libp2p/interface'
import type { SwarmPeer } from '../../../src/main/peer/swarm-peer.ts'
import { spawnPeer, teardown, waitFor } from '../../helpers/swarm.ts'

const ECHO = '/swarm-inspector-test/echo/1.0.0'
/** Long enough that a request on a fresh connection is answered first, even on a loaded CI machine. */
const DELAY_MS = 3_000

const nodes: Libp2p[] = []
const peers: SwarmPeer[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
  await teardown(peers.splice(0))
})

/** A node that echoes one message per stream and notes when it identified each peer. */
async function startNode(): Promise<{ node: Libp2p; identifiedAt: Map<string, number> }> {
  const node = (await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify({ runOnConnectionOpen: false }) }
  })) as Libp2p<{ identify: Identify }>
  nodes.push(node)
  identifyAfterOpen(node, node.services.identify, () => DELAY_MS)
  await node.handle(ECHO, async (stream) => {
    const lp = lpStream(stream)
    await lp.write(await lp.read())
    await stream.close()
  })
  const identifiedAt = new Map<string, number>()
  node.addEventListener('peer:identify', ({ detail }) =>
    identifiedAt.set(detail.peerId.toString(), performance.now())
  )
  return { node, identifiedAt }
}

describe('identify after a connection opens', () => {
  it('runs after the connection’s first request is answered, on both ends', async () => {
    const a = await startNode()
    const b = await startNode()
    const opened = performance.now()
    const stream = await a.node.dialProtocol(b.node.getMultiaddrs()[0]!, ECHO)
    const lp = lpStream(stream)
    await lp.write(new Uint8Array([1, 2, 3]))
    expect([...(await lp.read()).subarray()]).toEqual([1, 2, 3])
    const answered = performance.now()
    await stream.close()
    expect(answered - opened).toBeLessThan(DELAY_MS)
    expect(a.identifiedAt.size + b.identifiedAt.size).toBe(0)

    await waitFor(
      () => a.identifiedAt.has(b.node.peerId.toString()) && b.identifiedAt.has(a.node.peerId.toString()),
      'both ends to identify each other',
      DELAY_MS + 10_000
    )
    expect(a.identifiedAt.get(b.node.peerId.toString())!).toBeGreaterThan(answered)
    // What only identify brings: the other end's agent.
    const agent = async (node: Libp2p, of: Libp2p): Promise<string> =>
      new TextDecoder().decode((await node.peerStore.get(of.peerId)).metadata.get('AgentVersion'))
    expect(await agent(a.node, b.node)).toMatch(/libp2p/)
    expect(await agent(b.node, a.node)).toMatch(/libp2p/)
  }, 30_000)

  it('leaves a connection closed before the delay alone, and runs at once for a delay of 0', async () => {
    const runs: string[] = []
    const events = new EventTarget()
    const open = (id: string, status: Connection['status'] = 'open'): { status: Connection['status'] } => {
      const connection = { id, status }
      events.dispatchEvent(new CustomEvent('connection:open', { detail: connection }))
      return connection
    }
    let delay = 200
    afterOpen(
      events as unknown as Parameters<typeof afterOpen>[0],
      () => delay,
      (c) => runs.push(c.id)
    )
    const closed = open('closed early')
    const kept = open('kept open')
    closed.status = 'closed'
    expect(runs).toEqual([])
    await waitFor(() => runs.length > 0, 'the delayed run', 10_000)
    expect(runs).toEqual(['kept open'])
    expect(kept.status).toBe('open')
    delay = 0
    open('at once')
    expect(runs).toEqual(['kept open', 'at once'])
  })

  it('still tells our peers each other’s DHT protocol', async () => {
    const a = await spawnPeer()
    peers.push(a)
    const b = await spawnPeer()
    peers.push(b)
    await a.dial({ multiaddr: b.node.getMultiaddrs()[0]!.toString() }, {})
    const speaksDht = async (node: SwarmPeer['node'], other: SwarmPeer): Promise<boolean> =>
      (await node.peerStore.get(other.peerId).catch(() => null))?.protocols.includes(DEFAULT_DHT_PROTOCOL) ===
      true
    await waitFor(
      async () => (await speaksDht(a.node, b)) && (await speaksDht(b.node, a)),
      'identify to bring the DHT protocol on both ends',
      10_000
    )
  }, 30_000)
})
