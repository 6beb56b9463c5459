/**
 * Identify a moment after a connection opens (deferred-identify.ts): a connection's first request is answered
 * before identify has run on it, identify still runs on both ends afterwards, a connection closed before then is
 * left alone, and our peers still learn each other's protocols. With libp2p's default (identify the moment a
 * connection opens) the first test's "before" fails: identify's exchange is under way before the request is sent.
 * A peer's own dial to a peer its table holds is identified by the other end only, and by this one when its routing
 * table is viewed; for a while after a view, as it opens. A dial that puts a new peer into the table is identified,
 * and a view identifies a peer on one connection, trying a failed one again a while later.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, type Identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import {
  afterOpen,
  ConnectionIdentities,
  IDENTIFY_DELAY_MS,
  identifyAfterOpen
} from '../../../src/main/peer/deferred-identify.ts'
import { DEFAULT_DHT_PROTOCOL } from '../../../src/shared/swarm-defaults.ts'
import type { Connection } from '@libp2p/interface'
import { kadRoutingTable } from '../../../src/main/peer/routing-table-view.ts'
import { AGENT, type SwarmPeer } from '../../../src/main/peer/swarm-peer.ts'
import type { RoutingPeerView } from '../../../src/shared/views.ts'
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

  it('skips identify on its own dials to table peers until the table is viewed; the view identifies them', async () => {
    const a = await spawnPeer()
    peers.push(a)
    const b = await spawnPeer()
    peers.push(b)
    // The ids of the connections on which each peer identified the other.
    const identified = (of: SwarmPeer, by: SwarmPeer): string[] => {
      const runs: string[] = []
      by.node.addEventListener('peer:identify', ({ detail }) => {
        if (detail.peerId.equals(of.peerId)) runs.push(detail.connection.id)
      })
      return runs
    }
    const aOfB = identified(b, a)
    const bOfA = identified(a, b)
    const holds = async (peer: SwarmPeer, other: SwarmPeer): Promise<boolean> =>
      (await kadRoutingTable(peer.node.services.dht).find(other.peerId)) != null
    const viewed = async (): Promise<RoutingPeerView | undefined> =>
      (await a.routingTable({}, {})).buckets
        .flatMap((k) => k.peers)
        .find((p) => p.peerId === b.peerId.toString())
    // a dials b again, until a's dial is their one connection for a moment: right after a connection closes, either
    // peer's table crawler may dial the other (and a's dial would then reuse that connection).
    const redial = async (): Promise<Connection> => {
      for (let attempt = 1; ; attempt++) {
        // Closing whatever either end has open, until neither has any (a crawler may dial in the meantime).
        await waitFor(
          async () => {
            const open = [...a.node.getConnections(b.peerId), ...b.node.getConnections(a.peerId)]
            await Promise.all(open.map((c) => c.close()))
            return open.length === 0
          },
          'the connections to close on both ends',
          10_000
        )
        const connection = await a.node.dial(b.peerId)
        // Long past the delay that a's identify would run at.
        await new Promise((resolve) => setTimeout(resolve, 3 * IDENTIFY_DELAY_MS))
        const [atA, atB] = [a.node.getConnections(b.peerId), b.node.getConnections(a.peerId)]
        if (
          connection.direction === 'outbound' &&
          atA.length === 1 &&
          atA[0] === connection &&
          atB.length === 1
        )
          return connection
        if (attempt === 5) throw new Error('could not get a dial of a’s own to b alone in five attempts')
      }
    }

    // A first dial, to a peer the table does not hold: identified from both ends, and so each enters the other's table.
    const first = await a.node.dial(b.node.getMultiaddrs()[0]!)
    await waitFor(
      async () => (await holds(a, b)) && (await holds(b, a)),
      'a and b in each other’s table',
      10_000
    )
    expect(aOfB).toEqual([first.id])

    // Again, now that a's table holds b: only b, the dialled end, identifies.
    const again = await redial()
    const bEnd = b.node.getConnections(a.peerId)[0]!
    await waitFor(() => bOfA.includes(bEnd.id), 'b to identify a on its end of the new connection', 10_000)
    expect(bEnd.direction).toBe('inbound')
    expect(aOfB).not.toContain(again.id)

    // The routing table view identifies its connected peers that were not: its answer has b's agent and protocols
    // from this connection (what the first one's identify brought is forgotten first), and a view after it
    // identifies nothing more.
    await a.node.peerStore.patch(b.peerId, { protocols: [], metadata: {} })
    const view = await viewed()
    // (Ids, not the whole list: under load a crawler may have opened and closed another connection meanwhile.)
    const runsOn = (connection: Connection): number => aOfB.filter((id) => id === connection.id).length
    expect(runsOn(again)).toBe(1)
    expect(view?.connected).toBe(true)
    expect(view?.agent).toBe(AGENT)
    expect(view?.protocols).toContain(DEFAULT_DHT_PROTOCOL)
    expect(view?.dhtMode).toBe('server')
    await viewed()
    expect(runsOn(again)).toBe(1)

    // For a while after a view, a's own dials are identified as they open, as every connection was before.
    const watched = await redial()
    await waitFor(() => runsOn(watched) === 1, 'a to identify its own dial as it opens, once', 10_000)
  }, 60_000)

  it('identifies a dial that puts a new peer into the table (the contact check’s)', async () => {
    const a = await spawnPeer()
    peers.push(a)
    const b = await spawnPeer()
    peers.push(b)
    const c = await spawnPeer()
    peers.push(c)
    // With a's table empty, identify would run at once (a joining peer's), before c entered: a holds b first.
    await a.node.dial(b.node.getMultiaddrs()[0]!)
    await waitFor(
      async () => (await kadRoutingTable(a.node.services.dht).find(b.peerId)) != null,
      'b in a’s table'
    )
    const identifiedOn: Connection['direction'][] = []
    a.node.addEventListener('peer:identify', ({ detail }) => {
      if (detail.peerId.equals(c.peerId)) identifiedOn.push(detail.connection.direction)
    })
    // c, neither connected nor vouched for, is offered to a's table: the contact check dials it, and it enters the
    // table as that dial ends, before identify would run on the dial's connection.
    await a.node.peerStore.merge(c.peerId, { multiaddrs: c.node.getMultiaddrs() })
    await kadRoutingTable(a.node.services.dht).add(c.peerId)
    expect(await kadRoutingTable(a.node.services.dht).find(c.peerId)).toBeDefined()
    expect(a.node.getConnections(c.peerId).map((x) => x.direction)).toEqual(['outbound'])
    await waitFor(() => identifiedOn.length > 0, 'a to identify c on its dial', 10_000)
    expect(identifiedOn).toEqual(['outbound'])
  }, 30_000)

  it('identifies a peer on one connection, and tries a failed one again a while later', async () => {
    const runs: string[] = []
    let failing = true
    const identities = new ConnectionIdentities(
      {
        identify: async (connection) => {
          runs.push(connection.id)
          if (failing) throw new Error('identify timed out')
        }
      },
      { failedRetryMs: 200 }
    )
    const connection = (id: string, peer: string): Connection =>
      ({ id, status: 'open', remotePeer: { toString: () => peer } }) as unknown as Connection
    const [p1, p2, q1] = [connection('p1', 'p'), connection('p2', 'p'), connection('q1', 'q')]

    // p's first connection fails; q's is identified. A view right after tries p's other connection, not the failed
    // one, and leaves q alone.
    await identities.identify(p1)
    failing = false
    await identities.identify(q1)
    await identities.forView([p1, p2, q1])
    expect(runs).toEqual(['p1', 'q1', 'p2'])
    // Each peer has a run that did not fail: nothing more.
    await identities.forView([p1, p2, q1])
    expect(runs).toEqual(['p1', 'q1', 'p2'])
    // A peer whose one connection failed is tried again once the failure has stood a while, not before.
    const r1 = connection('r1', 'r')
    failing = true
    await identities.identify(r1)
    failing = false
    await identities.forView([r1])
    expect(runs).toEqual(['p1', 'q1', 'p2', 'r1'])
    await waitFor(
      async () => {
        await identities.forView([r1])
        return runs.length === 5
      },
      'the failed connection to be tried again',
      5_000
    )
    expect(runs).toEqual(['p1', 'q1', 'p2', 'r1', 'r1'])
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
