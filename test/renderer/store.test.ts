import { beforeEach, describe, expect, test } from 'vitest'
import { createInspectorStore } from '../../src/renderer/src/store/index.ts'
import { loadViews, startEventBridge } from '../../src/renderer/src/store/event-bridge.ts'
import {
  openSnapshot,
  parseSnapshot,
  serializeSnapshot,
  takeSnapshot
} from '../../src/renderer/src/store/snapshot.ts'
import { topicsOf } from '../../src/renderer/src/store/slices/records.ts'
import { DEFAULT_SETTINGS } from '../../src/shared/swarm-settings.ts'
import type { BucketsView } from '../../src/shared/views.ts'
import { fakeClient } from '../helpers/fake-client.ts'
import { node, record, routingPeer } from '../helpers/fixtures.ts'

const routing: BucketsView = { ownKadId: '00', k: 20, size: 0, buckets: [] }

/** Answers to every view the event bridge loads: this node, an empty table and nothing held. */
const viewsAnswers = (socketPath: string | null = null) => ({
  nodeInfo: () => node,
  routingTable: () => routing,
  records: () => [],
  providerRecords: () => ({ provided: [], held: [] }),
  queries: () => [],
  settings: () => DEFAULT_SETTINGS,
  bridgeStatus: () => ({ socketPath, tcp: null, web: null, clients: 0, calls: 0, problems: [] })
})
const viewsClient = (socketPath: string | null = null) => fakeClient(viewsAnswers(socketPath))

let store: ReturnType<typeof createInspectorStore>
beforeEach(() => {
  store = createInspectorStore()
})

describe('store', () => {
  test('lookups: a query starts, gains steps (counting distinct peers asked) and ends', () => {
    const s = store.getState()
    const query = {
      id: 'q1',
      kind: 'get' as const,
      topic: 't',
      key: null,
      target: 'ff',
      startedAt: 1,
      durationMs: null,
      status: 'running' as const,
      peersAsked: 0,
      result: null
    }
    s.queryStarted(query)
    const send = { at: 1, peerId: 'P', distance: '0', log2Distance: 1, kind: 'send' as const, path: 0 }
    s.queryStep('q1', send)
    s.queryStep('q1', { ...send, kind: 'response' })
    s.queryStep('q1', { ...send, peerId: 'Q' })
    s.queryEnded({ ...query, status: 'ok', durationMs: 9, peersAsked: 2 })
    const q = store.getState().queries[0]!
    expect(q.steps).toHaveLength(3)
    expect(q.peersAsked).toBe(2)
    expect(q.status).toBe('ok')
  })

  test('topics are counted and sorted', () => {
    expect(topicsOf([record('b', '1'), record('a', '1'), record('b', '2')])).toEqual([
      { topic: 'a', count: 1 },
      { topic: 'b', count: 2 }
    ])
  })

  test('a snapshot survives export and import with its bytes, and opens read-only', () => {
    const s = store.getState()
    s.setNode(node)
    s.setRouting(routing)
    s.setRecords([record('status', 'robot-1', '{"battery":83}')])
    const text = serializeSnapshot(takeSnapshot(store))
    const back = parseSnapshot(text)
    expect(new TextDecoder().decode(back.records[0]!.value)).toBe('{"battery":83}')
    const other = createInspectorStore()
    other.getState().clocksRead([{ peerId: 'P1', skewMs: 3, rttMs: 1, at: 1 }])
    openSnapshot(other, back, 'from-a-colleague.json')
    // Live events are not followed while it is open: the readings seen before are forgotten.
    expect(other.getState().clocks).toEqual({})
    expect(other.getState().snapshot?.name).toBe('from-a-colleague.json')
    expect(other.getState().node?.peerId).toBe('12D3KooWTest')
    expect(() => parseSnapshot('{"format":"something-else"}')).toThrow(/not a swarm-inspector snapshot/)
    expect(() => parseSnapshot('not json')).toThrow(/not a snapshot/)
  })

  test('the event bridge loads every view, then applies events as they arrive', async () => {
    const { client, events } = viewsClient('/tmp/bridge.sock')
    const stop = startEventBridge(client, store)
    await expect.poll(() => store.getState().link).toBe('live')
    expect(store.getState().node?.peerId).toBe('12D3KooWTest')
    expect(store.getState().bridge?.socketPath).toBe('/tmp/bridge.sock')
    events.push({ type: 'routing:add', peerId: 'P1', cpl: 3, at: 1 })
    events.push({
      type: 'connection:open',
      peerId: 'P1',
      remoteAddr: '/ip4/1.2.3.4/tcp/1',
      direction: 'inbound',
      at: 1
    })
    events.push({ type: 'peer:discovered', peerId: 'P2', addresses: ['/ip4/10.0.0.2/tcp/4101'], at: 2 })
    await expect.poll(() => store.getState().routingSize).toBe(1)
    expect(store.getState().node?.connections).toBe(1)
    expect(store.getState().discovered.map((p) => p.peerId)).toEqual(['P2'])
    // While a snapshot is open, live events do not touch the views.
    store.getState().setSnapshot({ name: 's', takenAt: 0 })
    events.push({ type: 'routing:add', peerId: 'P3', cpl: 1, at: 3 })
    await new Promise((r) => setTimeout(r, 20))
    expect(store.getState().routingSize).toBe(1)
    stop()
  })
})

describe('clock readings', () => {
  test('readings are shown without fetching the table again, and a later fetch with older ones does not undo them', async () => {
    const peer = (peerId: string, connected = true) =>
      routingPeer(peerId, { connected, latencyMs: null, clockSkewMs: null, clockReadAt: null })
    let answers = 0
    const { client, events, calls } = fakeClient({
      ...viewsAnswers(),
      // The second answer has a reading of P1 older than the event's (the event and the answer travel separately).
      routingTable: () => {
        answers++
        const p1 =
          answers === 1 ? peer('P1') : { ...peer('P1'), clockSkewMs: 40, latencyMs: 9, clockReadAt: 2 }
        return { ...routing, size: answers, buckets: [{ cpl: 0, peers: [p1, peer('P2', false)] }] }
      }
    })
    const stop = startEventBridge(client, store)
    await expect.poll(() => store.getState().link).toBe('live')
    const fetches = (): number => calls.filter((c) => c.method === 'routingTable').length
    const fetched = fetches()
    const shown = () => store.getState().routing?.buckets[0]?.peers
    events.push({ type: 'clock:read', peerId: 'P1', skewMs: 1, rttMs: 1, at: 3 })
    events.push({ type: 'clock:read', peerId: 'P1', skewMs: 3, rttMs: 2, at: 4 })
    events.push({ type: 'clock:read', peerId: 'P2', skewMs: 5, rttMs: 2, at: 4 })
    await expect.poll(() => shown()?.[0]?.clockSkewMs).toBe(3)
    expect(shown()?.[0]?.latencyMs).toBe(2)
    // Not connected: the table shows no reading for it.
    expect(shown()?.[1]?.clockSkewMs).toBeNull()
    await new Promise((r) => setTimeout(r, 400))
    expect(fetches()).toBe(fetched)
    // A fetch for another reason answers with an older reading; the table keeps the newer one.
    events.push({ type: 'routing:add', peerId: 'P3', cpl: 1, at: 5 })
    await expect.poll(() => store.getState().routing?.size).toBe(2)
    expect(shown()?.[0]).toMatchObject({ clockSkewMs: 3, latencyMs: 2, clockReadAt: 4 })
    expect(shown()?.[1]?.clockSkewMs).toBeNull()
    // After a restart of the peer, what its predecessor's events said is forgotten.
    events.push({ type: 'node:started', peerId: 'P0', at: 6 })
    await expect.poll(() => store.getState().routing?.size).toBe(3)
    expect(shown()?.[0]?.clockSkewMs).toBe(40)
    stop()
  })
})

describe('a snapshot opened while a view is being fetched', () => {
  test('keeps what it shows when the fetch answers', async () => {
    let answer: (view: BucketsView) => void = () => {}
    const { client } = fakeClient({
      ...viewsAnswers(),
      routingTable: () => new Promise<BucketsView>((resolve) => (answer = resolve))
    })
    const fetching = loadViews(client, store, ['routing'])
    const other = createInspectorStore()
    other.getState().setNode(node)
    other.getState().setRouting({ ...routing, size: 7 })
    openSnapshot(store, takeSnapshot(other), 'a.json')
    answer({ ...routing, size: 99 })
    await fetching
    expect(store.getState().routing?.size).toBe(7)
  })
})

describe('while the window is hidden', () => {
  test('the bridge stops refreshing views and catches up once it is shown again', async () => {
    let hidden = false
    const listeners = new Set<(h: boolean) => void>()
    const visibility = {
      hidden: () => hidden,
      onChange: (l: (h: boolean) => void) => {
        listeners.add(l)
        return () => listeners.delete(l)
      }
    }
    const { client, events, calls } = viewsClient()
    const stop = startEventBridge(client, store, visibility)
    await expect.poll(() => store.getState().link).toBe('live')
    const fetches = () => calls.filter((c) => c.method === 'records').length
    const before = fetches()
    hidden = true
    for (const l of listeners) l(true)
    events.push({
      type: 'record:stored',
      topic: 't',
      key: new Uint8Array([1]),
      publisher: 'p',
      createdAt: 0,
      at: 0
    })
    events.push({
      type: 'record:stored',
      topic: 't',
      key: new Uint8Array([2]),
      publisher: 'p',
      createdAt: 0,
      at: 0
    })
    await new Promise((r) => setTimeout(r, 400))
    expect(fetches()).toBe(before)
    hidden = false
    for (const l of listeners) l(false)
    await expect.poll(fetches).toBe(before + 1)
    stop()
  })
})
