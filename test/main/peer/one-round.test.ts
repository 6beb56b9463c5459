/**
 * The table crawler and the one-round lookups it makes possible, on a swarm of real peers that join through one
 * bootstrap peer and are never dialled to each other by the test.
 */
import type { Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import { equals } from 'uint8arrays'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { utf8 } from '../../../src/shared/bytes.ts'
import { kadRoutingTable } from '../../../src/main/peer/routing-table-view.ts'
import type { SwarmPeer } from '../../../src/main/peer/swarm-peer.ts'
import { GET_FANOUT, HEDGE_MAX_MS, PUT_QUORUM } from '../../../src/main/peer/one-round-lookups.ts'
import { SwarmDatastore } from '../../../src/main/peer/swarm-datastore.ts'
import { publishedKey } from '../../../src/main/peer/bookkeeping.ts'
import { recordKey } from '../../../src/main/peer/dht-keys.ts'
import { recordDatastoreKey } from '../../../src/main/peer/record-validation.ts'
import { DEFAULT_NAMESPACE } from '../../../src/shared/swarm-defaults.ts'
import { spawnPeer, teardown, waitFor } from '../../helpers/swarm.ts'

const N = 16
let peers: SwarmPeer[] = []
const table = (p: SwarmPeer) => kadRoutingTable(p.node.services.dht)
const byId = (id: string): SwarmPeer => peers.find((p) => p.peerId.toString() === id)!

/** The peer a get of `key` from `getter` asks first (the lookup's order is the same from one get to the next). */
async function firstAsked(getter: SwarmPeer, key: string): Promise<SwarmPeer> {
  const { queryId } = await getter.getRecord({ topic: 'one-round', key }, {})
  return byId(getter.queryTrace(queryId)!.steps.find((s) => s.kind === 'send')!.peerId)
}

/** Runs `tap` before a peer's kad-dht handles each request of `type` (fault injection into its handler); undo. */
function tapRequests(
  peer: SwarmPeer,
  type: string,
  tap: (msg: { key?: Uint8Array }) => Promise<void> | void
): () => void {
  type Rpc = { handleMessage: (from: unknown, msg: { type: string; key?: Uint8Array }) => Promise<unknown> }
  const rpc = (peer.node.services.dht as unknown as { rpc: Rpc }).rpc
  const original = rpc.handleMessage
  rpc.handleMessage = async (from, msg) => {
    if (msg.type === type) await tap(msg)
    return original.call(rpc, from, msg)
  }
  return () => {
    rpc.handleMessage = original
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Holds a peer's answers to GET_VALUE for `ms`; returns undo. */
const slowGetValue = (peer: SwarmPeer, ms: number): (() => void) =>
  tapRequests(peer, 'GET_VALUE', () => sleep(ms))

/** When the peers other than `from` received requests of `type` for `dhtKey` (performance.now()); `undo` stops. */
function arrivals(from: SwarmPeer, type: string, dhtKey: Uint8Array): { times: number[]; undo: () => void } {
  const times: number[] = []
  const undos = peers
    .filter((p) => p !== from)
    .map((p) =>
      tapRequests(p, type, (msg) => {
        if (msg.key != null && equals(msg.key, dhtKey)) times.push(performance.now())
      })
    )
  return { times, undo: () => undos.forEach((undo) => undo()) }
}

/**
 * Holds a peer's datastore reads and writes (get, has, put) of each key in `holds` until that key's hold resolves,
 * and notes when each such call started and ended, by key (performance.now()); `undo` puts the datastore back.
 */
function holdStore(
  peer: SwarmPeer,
  holds: Record<string, () => Promise<void>>
): { started: Map<string, number>; ended: Map<string, number>; undo: () => void } {
  const store = (peer as unknown as { datastore: SwarmDatastore }).datastore
  const started = new Map<string, number>()
  const ended = new Map<string, number>()
  const held = async <T>(key: Key, call: () => Promise<T>): Promise<T> => {
    const hold = holds[key.toString()]
    if (hold == null) return call()
    if (!started.has(key.toString())) started.set(key.toString(), performance.now())
    try {
      await hold()
      return await call()
    } finally {
      ended.set(key.toString(), performance.now())
    }
  }
  const { put, get, has } = SwarmDatastore.prototype
  store.put = async (key, value, options) => held(key, () => put.call(store, key, value, options))
  store.get = async (key, options) => held(key, () => get.call(store, key, options))
  store.has = async (key, options) => held(key, () => has.call(store, key, options))
  return {
    started,
    ended,
    undo: () => ['put', 'get', 'has'].forEach((method) => Reflect.deleteProperty(store, method))
  }
}

/** The providers a peer's kad-dht holds for a key (its provider store; kad-dht does not export it). */
async function providersHeld(peer: SwarmPeer, cid: CID): Promise<string[]> {
  type Providers = { getProviders: (cid: CID) => Promise<{ toString(): string }[]> }
  const { providers } = peer.node.services.dht as unknown as { providers: Providers }
  return (await providers.getProviders(cid)).map(String)
}

/**
 * A hold for holdStore: it lasts until a request `arrivals` watches for has reached a peer, or 3 s, and notes in
 * `released` whether one had (a read or write awaited before the requests were sent would wait out the 3 s).
 */
const untilRequested =
  (asked: { times: number[] }, released: boolean[], thenMs = 0) =>
  async (): Promise<void> => {
    const arrived = await waitFor(() => asked.times.length > 0, 'a request to reach a peer', 3_000).then(
      () => true,
      () => false
    )
    released.push(arrived)
    await sleep(thenMs)
  }

/** Waits for every peer's first crawl, after which lookups are one-round (a test run alone, -t, starts before). */
const crawled = (): Promise<void> =>
  waitFor(() => peers.every((p) => p.oneRoundReady), 'every first crawl', 50_000)

/** A put every one of the k closest holds (the put returns at its quorum; this waits for the rest). */
async function putEverywhere(from: SwarmPeer, key: string, value: string): Promise<void> {
  const put = await from.putRecord({ topic: 'one-round', key, value: utf8.encode(value) }, {})
  await waitFor(() => from.queryTrace(put.queryId)!.status !== 'running', 'the put to reach every target')
}

beforeAll(async () => {
  // Without the table mesh: these tests read which table entries have connections behind them, and which peers a
  // lookup finds connected, as the crawler and the lookups leave them (table-mesh.test.ts covers the mesh).
  const seed = await spawnPeer({ tableMesh: null })
  const bootstrap = seed.node.getMultiaddrs().map(String)
  peers = [
    seed,
    ...(await Promise.all(Array.from({ length: N - 1 }, () => spawnPeer({ bootstrap, tableMesh: null }))))
  ]
}, 60_000)
afterAll(async () => teardown(peers))

describe(`${N} peers joining through one bootstrap peer`, () => {
  test('the crawler fills every table with the whole swarm, taking peers on the word of those that named them', async () => {
    await waitFor(
      () => peers.every((p) => table(p).size === N - 1),
      'every table to hold the whole swarm',
      50_000
    )
    await waitFor(() => peers.every((p) => p.oneRoundReady), 'every crawler to settle', 30_000)
    // Peers named in crawl answers enter the table without a dial: some table entries have no connection behind
    // them (were every new contact dialled first, as kad-dht does, each entry would have one).
    const undialled = peers.flatMap((p) =>
      [...table(p).kb.toIterable()].filter(({ peerId }) => p.node.getConnections(peerId).length === 0)
    )
    expect(undialled.length).toBeGreaterThan(0)
  }, 90_000)

  test(`a get from a full table asks at most ${GET_FANOUT} peers, in one round`, async () => {
    await putEverywhere(peers[1]!, 'get', 'found')
    const { record, queryId } = await peers[9]!.getRecord({ topic: 'one-round', key: 'get' }, {})
    expect(utf8.decode(record!.value)).toBe('found')
    const sends = peers[9]!.queryTrace(queryId)!.steps.filter((s) => s.kind === 'send')
    expect(sends.length).toBeGreaterThan(0)
    expect(sends.length).toBeLessThanOrEqual(GET_FANOUT)
    expect(sends.every((s) => s.round === 1)).toBe(true)
  })

  test('a get asks one peer, and the others only when that one is slow or lacks the record', async () => {
    await putEverywhere(peers[3]!, 'hedge', 'hedged')
    const getter = peers[10]!
    // Connected to every other peer, the getter asks the closest first, the same one from one get to the next (a
    // hedge that opened a new connection could otherwise change the order between two gets).
    for (const p of peers) if (p !== getter) await getter.node.dial(p.peerId)
    const getOnce = async () => {
      const started = performance.now()
      const { record, queryId } = await getter.getRecord({ topic: 'one-round', key: 'hedge' }, {})
      const ms = performance.now() - started
      expect(utf8.decode(record!.value)).toBe('hedged')
      const steps = getter.queryTrace(queryId)!.steps
      expect(steps.filter((s) => s.kind === 'send').every((s) => s.round === 1)).toBe(true)
      const sent = steps.filter((s) => s.kind === 'send').map((s) => s.peerId)
      const answeredBy = (id: string) => steps.find((s) => s.kind === 'response' && s.peerId === id)
      return { sent, answeredBy, from: record!.from, ms }
    }
    // A peer that answers promptly is the only one asked (asking three at once would fail this): the hedge fires
    // only past the 90th percentile of first answers, so most gets ask one.
    const prompt = []
    for (let i = 0; i < 8; i++) prompt.push((await getOnce()).sent.length)
    expect(prompt.filter((n) => n === 1).length).toBeGreaterThanOrEqual(4)

    // The first peer stalls for 3 s: the others are asked after the hedge delay (at most HEDGE_MAX_MS), and one of
    // them answers long before the stall ends.
    const first = (await firstAsked(getter, 'hedge')).peerId.toString()
    const undo = slowGetValue(byId(first), 3_000)
    try {
      const slow = await getOnce()
      expect(slow.sent).toContain(first)
      expect(slow.sent.length).toBeGreaterThan(1)
      expect(slow.from).not.toBe(first)
      expect(slow.answeredBy(first)).toBeUndefined()
      expect(slow.ms).toBeLessThan(1_500)
      expect(HEDGE_MAX_MS).toBeLessThan(1_500)
    } finally {
      undo()
    }

    // The first peer has lost its copy: it answers without the record, and the record comes from another peer in
    // the same round.
    await byId(first).removeRecord({ topic: 'one-round', key: 'hedge' }, {})
    const missed = await getOnce()
    expect(missed.sent).toContain(first)
    expect(missed.answeredBy(first)?.hasRecord ?? false).toBe(false)
    expect(missed.sent.length).toBeGreaterThan(1)
    expect(missed.from).not.toBe(first)
  }, 30_000)

  test('a get with no connection to any peer of its round finds the record in that round', async () => {
    await putEverywhere(peers[4]!, 'cold', 'cold')
    const getter = peers[12]!
    await Promise.all(getter.node.getConnections().map((c) => c.close()))
    const { record, queryId } = await getter.getRecord({ topic: 'one-round', key: 'cold' }, {})
    expect(utf8.decode(record!.value)).toBe('cold')
    const sends = getter.queryTrace(queryId)!.steps.filter((s) => s.kind === 'send')
    expect(sends.length).toBeGreaterThan(0)
    expect(sends.length).toBeLessThanOrEqual(GET_FANOUT)
    expect(sends.every((s) => s.round === 1)).toBe(true)
  })

  test('a provider lookup reports the providers this peer holds before it asks anyone', async () => {
    const provider = peers[5]!
    await provider.provide({ topic: 'one-round', key: 'local-first' }, {})
    const lookup = provider.getProviders({ topic: 'one-round', key: 'local-first' }, {})
    const first = await lookup.next()
    expect(first.done).toBe(false)
    expect(first.value).toMatchObject({
      peerId: provider.peerId.toString(),
      from: provider.peerId.toString()
    })
    const trace = provider.lastQuery('find-providers')!
    expect(trace.steps.filter((s) => s.kind === 'send')).toEqual([])
    // Stopped there, before the network part started: its trace is closed all the same.
    await lookup.return(undefined)
    expect(provider.queryTrace(trace.id)!.status).not.toBe('running')
  })

  test('a get reads its own copy while its requests go out, and prefers it to an equal one', async () => {
    await crawled()
    await putEverywhere(peers[9]!, 'own-copy', 'own')
    const getter = peers[10]!
    const dhtKey = recordKey(DEFAULT_NAMESPACE, 'one-round', utf8.encode('own-copy'))
    const asked = arrivals(getter, 'GET_VALUE', dhtKey)
    // The read of its own copy is held until the round's first request has reached a peer.
    const released: boolean[] = []
    const store = holdStore(getter, {
      [recordDatastoreKey(dhtKey).toString()]: untilRequested(asked, released)
    })
    try {
      const { record } = await getter.getRecord({ topic: 'one-round', key: 'own-copy' }, {})
      expect(released, 'the round went out while the read was held').toEqual([true])
      expect(utf8.decode(record!.value)).toBe('own')
      expect(record!.from).toBe(getter.peerId.toString())
    } finally {
      store.undo()
      asked.undo()
    }
  }, 60_000)

  test('a put writes its own copy and its mark while its requests go out, and returns once both are written', async () => {
    await crawled()
    const putter = peers[11]!
    const dhtKey = recordKey(DEFAULT_NAMESPACE, 'one-round', utf8.encode('written-alongside'))
    const asked = arrivals(putter, 'PUT_VALUE', dhtKey)
    const record = recordDatastoreKey(dhtKey).toString()
    const mark = publishedKey(dhtKey).toString()
    // The copy's write and the mark's read and write are held until the first request has reached a peer; the
    // copy's for 300 ms more, so that it ends well after the mark's.
    const released: boolean[] = []
    const store = holdStore(putter, {
      [record]: untilRequested(asked, released, 300),
      [mark]: untilRequested(asked, released)
    })
    try {
      await putter.putRecord({ topic: 'one-round', key: 'written-alongside', value: utf8.encode('v') }, {})
      const returned = performance.now()
      // The mark is a read, then a write: three holds.
      expect(released, 'the requests went out while the writes were held').toEqual([true, true, true])
      const firstRequest = Math.min(...asked.times)
      expect(store.started.get(record)).toBeLessThan(firstRequest)
      expect(store.started.get(mark)).toBeLessThan(firstRequest)
      // The put returned only once both were written: no answer counted towards its quorum before its own copy was.
      expect(store.ended.get(record)).toBeLessThanOrEqual(returned)
      expect(store.ended.get(mark)).toBeLessThanOrEqual(returned)
    } finally {
      store.undo()
      asked.undo()
    }
  }, 60_000)

  test('a provide announces to the k closest of the table in one round, without walking the keyspace first', async () => {
    const provider = peers[7]!
    const provided = await provider.provide({ topic: 'one-round', key: 'provided' }, {})
    const trace = provider.queryTrace(provided.queryId)!
    const sends = trace.steps.filter((s) => s.kind === 'send')
    // kad-dht's provide walks first: FIND_NODE requests over several rounds, then ADD_PROVIDER to the walk's end.
    expect(sends.map((s) => s.message)).toEqual(sends.map(() => 'ADD_PROVIDER'))
    expect(sends.every((s) => s.round === 1)).toBe(true)
    // k = 20 here, so the k closest are the whole swarm.
    expect(new Set(sends.map((s) => s.peerId)).size).toBe(N - 1)
    expect(provided.sentTo).toBe(N - 1)
    expect(trace.status).toBe('ok')
    // Every other peer holds the provider record: it was sent, and each one handled it.
    const cid = CID.parse(provided.cid)
    await waitFor(async () => {
      const held = await Promise.all(
        peers
          .filter((p) => p !== provider)
          .map(async (p) => (await providersHeld(p, cid)).includes(provider.peerId.toString()))
      )
      return held.every(Boolean)
    }, 'every other peer to hold the provider record')
  })

  test('the hourly re-announcement walks to the closest peers first, as a republish does', async () => {
    const provider = peers[8]!
    // One-round lookups (and provides) start after the first crawl; this test may run alone (-t).
    const lookups = (provider as unknown as { lookups: { usable(): boolean } }).lookups
    await waitFor(() => lookups.usable(), "the provider's first crawl")
    const walks = vi.spyOn(provider.node.services.dht, 'provide')
    try {
      await provider.provide({ topic: 'one-round', key: 're-announced' }, {})
      expect(walks, "a user's provide is one round").not.toHaveBeenCalled()
      await provider.republish()
      expect(walks).toHaveBeenCalled()
    } finally {
      walks.mockRestore()
    }
  })

  test(`a put returns once ${PUT_QUORUM} peers confirm it; the other sends finish in the background`, async () => {
    const put = await peers[2]!.putRecord({ topic: 'one-round', key: 'put', value: utf8.encode('v') }, {})
    expect(put.accepted).toBe(PUT_QUORUM)
    expect(put.sentTo).toBe(N - 1)
    const trace = () => peers[2]!.queryTrace(put.queryId)!
    await waitFor(() => trace().status !== 'running', 'the put to finish in the background')
    expect(trace().status).toBe('ok')
    const stored = Number(/stored on (\d+) of/.exec(trace().result ?? '')?.[1])
    expect(stored).toBeGreaterThan(PUT_QUORUM)
    // Every peer the put reached now answers the get from its own copy or a neighbour's.
    for (const p of peers) {
      const { record } = await p.getRecord({ topic: 'one-round', key: 'put' }, {})
      expect(record).not.toBeNull()
    }
  })
})
