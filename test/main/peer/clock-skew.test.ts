/**
 * A neighbour's clock is read over a stream of its own, and only the routing table view shows the reading
 * (clock-skew.ts), so a peer reads clocks when connections open only while that view is being looked at. Here a
 * plain libp2p node answers the clock protocol and counts how often our peer asks: never on a connection opened
 * while nobody has viewed the table (before, on every connection: the first check fails that way), once on the first
 * connection after a view (announced by an event, so that the UI shows it), and not again on a reconnection while
 * that reading is fresh.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import { afterEach, expect, it } from 'vitest'
import { answerClock, CLOCK_PROTOCOL, READ_AFTER_OPEN_MS } from '../../../src/main/peer/clock-skew.ts'
import type { SwarmPeer } from '../../../src/main/peer/swarm-peer.ts'
import type { PeerEvent } from '../../../src/shared/events.ts'
import { spawnPeer, teardown, waitFor } from '../../helpers/swarm.ts'

const nodes: Libp2p[] = []
const peers: SwarmPeer[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()))
  await teardown(peers.splice(0))
})

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Past the moment a new connection's clock would be read, with room for a loaded machine. */
const PAST_READ_MS = READ_AFTER_OPEN_MS + 2_000

it('reads a new connection’s clock only while the routing table is viewed, and not again while fresh', async () => {
  const peer = await spawnPeer()
  peers.push(peer)
  const probe = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  nodes.push(probe)
  // Asked for a reading, and readings taken: the asker closes the stream once it has read the answer (a reading
  // cut off, by the hang-ups below, aborts it instead).
  let asked = 0
  let taken = 0
  await probe.handle(CLOCK_PROTOCOL, async (stream) => {
    asked++
    stream.addEventListener('close', () => {
      if (stream.status === 'closed') taken++
    })
    await answerClock(stream)
  })
  const reconnect = async (): Promise<void> => {
    await probe.hangUp(peer.peerId)
    await waitFor(() => peer.node.getConnections(probe.peerId).length === 0, 'the connection to close')
    await probe.dial(peer.node.getMultiaddrs()[0]!)
  }

  await probe.dial(peer.node.getMultiaddrs()[0]!)
  await sleep(PAST_READ_MS)
  expect(asked).toBe(0)

  const readings: PeerEvent[] = []
  peer.subscribe((event) => {
    if (event.type === 'clock:read') readings.push(event)
  })
  await peer.routingTable({}, {})
  await reconnect()
  await waitFor(() => taken === 1, 'the clock read on the connection opened after the view', 10_000)
  // The view that asked was answered without the reading; the event has the UI fetch the table again.
  await waitFor(() => readings.length === 1, 'the reading’s event')
  expect(readings[0]).toMatchObject({ peerId: probe.peerId.toString() })

  await reconnect()
  await sleep(PAST_READ_MS)
  expect(asked).toBe(1)
  expect(taken).toBe(1)
}, 30_000)
