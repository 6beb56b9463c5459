/**
 * DHT requests over reused streams, against real peers (kad-dht answering on the other side): the answers are the
 * ones kad-dht's own network gets, requests in sequence share one stream, and a stream the remote dropped while it
 * sat idle costs a retry on a new stream, not a failed request.
 */
import { create, toBinary } from '@bufbuild/protobuf'
import type { PeerId } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { MessageType, type QueryEvent } from '@libp2p/kad-dht'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { utf8 } from '../../../src/shared/bytes.ts'
import { DEFAULT_DHT_PROTOCOL, DEFAULT_NAMESPACE } from '../../../src/shared/swarm-defaults.ts'
import { providerCid, recordKey } from '../../../src/main/peer/dht-keys.ts'
import { DhtRequestStreams } from '../../../src/main/peer/dht-request-streams.ts'
import { MessageSchema, MessageType as WireType } from '../../../src/main/peer/gen/kad_dht_pb.ts'
import { kadNetwork, type KadNetwork } from '../../../src/main/peer/kad-network.ts'
import type { SwarmPeer } from '../../../src/main/peer/swarm-peer.ts'
import { collect, spawnPeer, spawnSwarm, teardown } from '../../helpers/swarm.ts'

const PATH = { index: 0, queued: 0, running: 0, total: 0 }
let peers: SwarmPeer[] = []
let asker: SwarmPeer
let holder: SwarmPeer
let requests: DhtRequestStreams
/** Streams the requests opened (the peers' own crawlers keep streams of their own on the same connections). */
let opened = 0
const key = recordKey(DEFAULT_NAMESPACE, 'streams', utf8.encode('k'))

beforeAll(async () => {
  peers = await spawnSwarm(4)
  ;[asker, holder] = [peers[0]!, peers[1]!]
  await holder.putRecord({ topic: 'streams', key: 'k', value: utf8.encode('held') }, {})
  requests = new DhtRequestStreams(
    {
      dialProtocol: async (...args) => {
        opened++
        return asker.node.dialProtocol(...args)
      }
    },
    DEFAULT_DHT_PROTOCOL
  )
}, 60_000)
afterAll(async () => {
  requests.close()
  await teardown(peers)
})

const getValue = (network: KadNetwork, to: PeerId) =>
  collect(network.sendRequest(to, { type: MessageType.GET_VALUE, key }, { path: PATH }))
/** ADD_PROVIDER from the asker to the holder for a key of the test's topic, over the reused streams. */
async function addProvider(key: string) {
  const cid = await providerCid(DEFAULT_NAMESPACE, 'streams', utf8.encode(key))
  const message = {
    type: MessageType.ADD_PROVIDER,
    key: cid.multihash.bytes,
    providers: [
      { id: asker.peerId.toMultihash().bytes, multiaddrs: asker.node.getMultiaddrs().map((m) => m.bytes) }
    ]
  }
  return { cid, events: await collect(requests.sendMessage(holder.peerId, message, { path: PATH })) }
}
const response = (events: QueryEvent[]) => {
  const answer = events.find((e) => e.name === 'PEER_RESPONSE')
  if (answer?.name !== 'PEER_RESPONSE') throw new Error(`no answer: ${events.map((e) => e.name).join(', ')}`)
  return answer
}

describe('DHT requests over reused streams', () => {
  test("answer as kad-dht's own network does, with its events in its order", async () => {
    const ours = await getValue(requests, holder.peerId)
    const theirs = await getValue(kadNetwork(asker.node.services.dht), holder.peerId)
    expect(ours.map((e) => e.name)).toEqual(['DIAL_PEER', 'SEND_QUERY', 'PEER_RESPONSE'])
    expect(ours.map((e) => e.name)).toEqual(theirs.map((e) => e.name))
    const [a, b] = [response(ours), response(theirs)]
    expect(a.messageType).toBe(MessageType.GET_VALUE)
    expect(a.record?.value).toEqual(b.record?.value)
    expect(a.closer.map((p) => p.id.toString()).sort()).toEqual(b.closer.map((p) => p.id.toString()).sort())
    expect(a.closer.length).toBeGreaterThan(0)
    expect(a.closer.every((p) => p.multiaddrs.length > 0)).toBe(true)
  })

  test('requests in sequence share one stream, kept open between them', async () => {
    await getValue(requests, holder.peerId)
    const before = opened
    for (let i = 0; i < 5; i++) expect(response(await getValue(requests, holder.peerId)).record).toBeDefined()
    expect(opened).toBe(before)
  })

  test('a one-way ADD_PROVIDER goes on the same stream, and the remote stores it and answers the next request', async () => {
    await getValue(requests, holder.peerId)
    const before = opened
    const { cid, events } = await addProvider('provided')
    expect(events.map((e) => e.name)).toEqual(['DIAL_PEER', 'SEND_QUERY', 'PEER_RESPONSE'])
    // Answered on the same stream after the holder has handled the ADD_PROVIDER (one message at a time).
    const providers = await collect(
      requests.sendRequest(
        holder.peerId,
        { type: MessageType.GET_PROVIDERS, key: cid.multihash.bytes },
        { path: PATH }
      )
    )
    expect(response(providers).providers.map((p) => p.id.toString())).toEqual([asker.peerId.toString()])
    expect(opened).toBe(before)
  })

  test('a one-way message never follows another on a stream the remote has not confirmed since', async () => {
    await getValue(requests, holder.peerId)
    const before = opened
    // The holder refuses the next ADD_PROVIDER: kad-dht then aborts the stream it came on.
    type Rpc = { handleMessage: (from: unknown, msg: { type: string }) => Promise<unknown> }
    const rpc = (holder.node.services.dht as unknown as { rpc: Rpc }).rpc
    const original = rpc.handleMessage
    rpc.handleMessage = async (from, msg) => {
      if (msg.type === 'ADD_PROVIDER') {
        rpc.handleMessage = original
        throw new Error('refused')
      }
      return original.call(rpc, from, msg)
    }
    const refused = await addProvider('refused')
    const second = await addProvider('second')
    expect(refused.events.map((e) => e.name)).toEqual(['DIAL_PEER', 'SEND_QUERY', 'PEER_RESPONSE'])
    expect(second.events.map((e) => e.name)).toEqual(['DIAL_PEER', 'SEND_QUERY', 'PEER_RESPONSE'])
    // Written on the first's stream, the second would have been lost with it; it went on a new one, and arrived.
    expect(opened).toBe(before + 1)
    const providers = await collect(
      requests.sendRequest(
        holder.peerId,
        { type: MessageType.GET_PROVIDERS, key: second.cid.multihash.bytes },
        { path: PATH }
      )
    )
    expect(response(providers).providers.map((p) => p.id.toString())).toEqual([asker.peerId.toString()])
  })

  test('a stream the remote dropped while idle is replaced, and the request still succeeds', async () => {
    await getValue(requests, holder.peerId)
    const before = opened
    // The holder resets its end, as kad-dht does with a stream idle for 10 s.
    for (const s of holder.node.getConnections(asker.peerId).flatMap((c) => c.streams))
      if (s.protocol === DEFAULT_DHT_PROTOCOL) s.abort(new Error('idle'))
    const events = await getValue(requests, holder.peerId)
    expect(response(events).record).toBeDefined()
    expect(opened).toBe(before + 1)
  })

  test('an answer that is not for this request fails it, and its stream is not reused', async () => {
    // A DHT peer that answers every request with a GET_VALUE for another key, twice (one answer too many).
    const liar = await spawnPeer()
    peers.push(liar)
    await liar.node.unhandle(DEFAULT_DHT_PROTOCOL)
    await liar.node.handle(DEFAULT_DHT_PROTOCOL, async (stream) => {
      const lp = lpStream(stream)
      const other = recordKey(DEFAULT_NAMESPACE, 'streams', utf8.encode('other'))
      const answer = toBinary(MessageSchema, create(MessageSchema, { type: WireType.GET_VALUE, key: other }))
      for (;;) {
        await lp.read()
        await lp.write(answer)
        await lp.write(answer)
      }
    })
    await asker.dial({ multiaddr: liar.node.getMultiaddrs()[0]!.toString() }, {})
    const before = opened
    for (let i = 0; i < 2; i++) {
      const events = await getValue(requests, liar.peerId)
      const failure = events.find((e) => e.name === 'QUERY_ERROR')
      expect(failure?.name === 'QUERY_ERROR' && failure.error.message).toMatch(/another key/)
    }
    // Each request needed a stream of its own: the first one's, holding a stray answer, was not kept.
    expect(opened).toBe(before + 2)
  })

  test('a peer that cannot be reached gives a query error, not a throw', async () => {
    const [stranger] = peers.splice(3, 1)
    await stranger!.stop()
    const events = await getValue(requests, stranger!.peerId)
    expect(events.map((e) => e.name)).toEqual(['DIAL_PEER', 'QUERY_ERROR'])
  })
})
