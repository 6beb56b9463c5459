/**
 * A neighbour's clock is read over a stream of its own, and only the routing table view shows the reading
 * (clock-skew.ts), so a peer reads clocks for whoever looks. Two more of our peers join it, each answering the clock
 * protocol through a handler that counts how often it is asked: a connection opened while nobody has viewed the
 * table is not read (before, every connection was: the first check fails that way); a view reads its connected
 * peers and has the readings in its answer; a peer that connects after a view is read once its connection has been
 * open READ_AFTER_OPEN_MS (not by a view before then); every reading comes as an event; a reconnection while the
 * reading is fresh is not read again.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterEach, expect, it } from 'vitest'
import {
  answerClock,
  ClockSkews,
  CLOCK_PROTOCOL,
  READ_AFTER_OPEN_MS,
  readClock
} from '../../../src/main/peer/clock-skew.ts'
import { VIEW_WAITS_MS } from '../../../src/main/peer/view-waits.ts'
import type { Connection, PeerId } from '@libp2p/interface'
import { kadRoutingTable } from '../../../src/main/peer/routing-table-view.ts'
import type { SwarmPeer } from '../../../src/main/peer/swarm-peer.ts'
import type { PeerEvent } from '../../../src/shared/events.ts'
import { spawnPeer, teardown, waitFor } from '../../helpers/swarm.ts'

const peers: SwarmPeer[] = []
afterEach(async () => {
  await teardown(peers.splice(0))
})

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Past the moment a new connection's clock would be read, with room for a loaded machine. */
const PAST_READ_MS = READ_AFTER_OPEN_MS + 2_000

/** One of our peers whose clock answers are counted: when each was asked for, and how many the asker took. */
async function countingPeer(): Promise<{ peer: SwarmPeer; asked: number[]; taken: () => number }> {
  const peer = await spawnPeer()
  peers.push(peer)
  const asked: number[] = []
  let taken = 0
  await peer.node.unhandle(CLOCK_PROTOCOL)
  await peer.node.handle(CLOCK_PROTOCOL, async (stream) => {
    asked.push(Date.now())
    // The asker closes the stream once it has read the answer (a reading cut off aborts it instead).
    stream.addEventListener('close', () => {
      if (stream.status === 'closed') taken++
    })
    await answerClock(stream)
  })
  return { peer, asked, taken: () => taken }
}

it('reads clocks for whoever looks at the routing table, after a connection’s first second, once while fresh', async () => {
  const reader = await spawnPeer()
  peers.push(reader)
  const events: PeerEvent[] = []
  reader.subscribe((event) => {
    if (event.type === 'clock:read') events.push(event)
  })
  const table = kadRoutingTable(reader.node.services.dht)
  const inTable = (of: SwarmPeer) => async () => (await table.find(of.peerId)) != null
  const address = reader.node.getMultiaddrs()[0]!

  const first = await countingPeer()
  await first.peer.node.dial(address)
  await waitFor(inTable(first.peer), 'the first peer in the reader’s table')
  await sleep(PAST_READ_MS)
  expect(first.asked).toHaveLength(0)

  // A view reads its connected peers and answers with the readings.
  const viewed = (await reader.routingTable({}, {})).buckets.flatMap((b) => b.peers)
  const entry = viewed.find((p) => p.peerId === first.peer.peerId.toString())
  expect(first.asked).toHaveLength(1)
  expect(entry?.clockSkewMs).toEqual(expect.any(Number))
  expect(entry?.latencyMs).toEqual(expect.any(Number))

  // A peer that connects after the view is read once its connection is a second old, not by a view before then.
  const second = await countingPeer()
  const dialled = Date.now()
  await second.peer.node.dial(address)
  await waitFor(inTable(second.peer), 'the second peer in the reader’s table')
  await reader.routingTable({}, {})
  await waitFor(() => second.taken() === 1, 'the second peer’s clock read', 10_000)
  expect(second.asked).toHaveLength(1)
  expect(second.asked[0]! - dialled).toBeGreaterThanOrEqual(READ_AFTER_OPEN_MS)
  // Every reading taken comes as an event (a view may have answered without it, or not have started it).
  const eventFor = (of: SwarmPeer) => () =>
    events.some((e) => e.type === 'clock:read' && e.peerId === of.peerId.toString())
  await waitFor(eventFor(second.peer), 'the second reading’s event')
  expect(eventFor(first.peer)()).toBe(true)

  // A reconnection while the reading is fresh is not read again.
  await first.peer.node.hangUp(reader.peerId)
  await waitFor(() => reader.node.getConnections(first.peer.peerId).length === 0, 'the connection to close')
  await first.peer.node.dial(address)
  await sleep(PAST_READ_MS)
  expect(first.asked).toHaveLength(1)
  expect(first.taken() + second.taken()).toBe(2)
  expect(events).toHaveLength(2)
}, 60_000)

/** A connection (to `remotePeer`, or a new peer) whose clock streams fail (or never open) as `open` says, counted. */
async function connectionThat(
  open: () => Promise<never>,
  remotePeer?: PeerId
): Promise<{ c: Connection; tries: () => number }> {
  let tries = 0
  const c = {
    remotePeer: remotePeer ?? peerIdFromPrivateKey(await generateKeyPair('Ed25519')),
    newStream: () => {
      tries++
      return open()
    }
  }
  return { c: c as unknown as Connection, tries: () => tries }
}

const failing = (name: string) => () => Promise.reject(Object.assign(new Error(name), { name }))

it('leaves a peer alone for a while after a failed reading, longer without the protocol, and holds a view up so long at most', async () => {
  const stop = new AbortController()
  const clocks = new ClockSkews(stop.signal, { unsupportedRetryMs: 60_000, failedRetryMs: 1_000 })
  try {
    // Other software: asked once, not again by the next views.
    const other = await connectionThat(failing('UnsupportedProtocolError'))
    // A reading that failed otherwise (the connection closed, a reset): tried again after a short while.
    const reset = await connectionThat(failing('StreamResetError'))
    await clocks.forView([other.c, reset.c])
    await clocks.forView([other.c, reset.c])
    expect([other.tries(), reset.tries()]).toEqual([1, 1])
    await sleep(1_200)
    await clocks.forView([other.c, reset.c])
    expect([other.tries(), reset.tries()]).toEqual([1, 2])
    // A new connection to a peer whose reading just failed otherwise is read once settled; to one without the
    // protocol, still not.
    const reset2 = await connectionThat(failing('StreamResetError'), reset.c.remotePeer)
    const other2 = await connectionThat(failing('UnsupportedProtocolError'), other.c.remotePeer)
    for (const again of [reset2, other2]) {
      clocks.opened(again.c)
      clocks.settled(again.c)
    }
    await sleep(50)
    expect([other2.tries(), reset2.tries()]).toEqual([0, 1])
    // Not in its first second.
    const young = await connectionThat(failing('StreamResetError'))
    clocks.opened(young.c)
    await clocks.forView([young.c])
    expect(young.tries()).toBe(0)
    // A reading that never comes holds a view up VIEW_WAITS_MS, no longer; the next view waits for it too.
    const stalled = await connectionThat(() => new Promise<never>(() => {}))
    for (let view = 0; view < 2; view++) {
      const started = performance.now()
      await clocks.forView([stalled.c])
      const waited = performance.now() - started
      expect(waited).toBeGreaterThanOrEqual(VIEW_WAITS_MS - 5)
      expect(waited).toBeLessThan(VIEW_WAITS_MS + 1_500)
    }
    expect(stalled.tries()).toBe(1)
  } finally {
    stop.abort()
  }
})

it('gives up on a peer that accepts the protocol and never answers, when the reading’s time is up', async () => {
  const reader = await spawnPeer()
  const silent = await spawnPeer()
  peers.push(reader, silent)
  await silent.node.unhandle(CLOCK_PROTOCOL)
  let accepted = false
  await silent.node.handle(CLOCK_PROTOCOL, async (stream) => {
    accepted = true
    await new Promise((resolve) => stream.addEventListener('close', resolve))
  })
  const connection = await reader.node.dial(silent.node.getMultiaddrs()[0]!)
  const started = performance.now()
  await expect(readClock(connection, AbortSignal.timeout(1_000))).rejects.toThrow('no clock reading in time')
  expect(accepted).toBe(true)
  expect(performance.now() - started).toBeLessThan(5_000)
})
