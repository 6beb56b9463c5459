/**
 * The module-level bridge between the peer and the store: loads every view, then follows the peer's event stream
 * and calls store actions, so components never touch IPC or HTTP. Reconnects with backoff when the stream drops (the
 * peer restarted, the daemon went away). Paused while a snapshot is open.
 */
import type { PeerApiClient } from '../../../shared/api-contract.ts'
import type { PeerEvent } from '../../../shared/events.ts'
import type { InspectorState, InspectorStore } from './index.ts'
import type { ClockReadingSeen } from './slices/routing.ts'
import { pageVisibility, type Visibility } from './page-visibility.ts'

/** How long `clock:read` events are gathered before the table shows them. */
const CLOCK_BATCH_MS = 100

export type ViewPart = 'node' | 'routing' | 'records' | 'providers' | 'queries' | 'settings' | 'bridge'
export const ALL_PARTS: ViewPart[] = [
  'node',
  'routing',
  'records',
  'providers',
  'queries',
  'settings',
  'bridge'
]

/** Fetches the given parts of the views from the peer into the store. */
export async function loadViews(
  client: PeerApiClient,
  store: InspectorStore,
  parts: ViewPart[]
): Promise<void> {
  // Shows a part once fetched, unless a snapshot was opened meanwhile: that keeps what it shows.
  const show = async <T>(
    fetching: Promise<T>,
    apply: (s: InspectorState, view: T) => void
  ): Promise<void> => {
    const view = await fetching
    const s = store.getState()
    if (s.snapshot == null) apply(s, view)
  }
  const load: Record<ViewPart, () => Promise<void>> = {
    node: () => show(client.nodeInfo({}), (s, v) => s.setNode(v)),
    routing: () => show(client.routingTable({}), (s, v) => s.routingLoaded(v)),
    records: () => show(client.records({}), (s, v) => s.setRecords(v)),
    providers: () => show(client.providerRecords({}), (s, v) => s.setProviders(v)),
    queries: () => show(client.queries({}), (s, v) => s.setQueries(v)),
    settings: () => show(client.settings({}), (s, v) => s.setSettings(v)),
    bridge: () => show(client.bridgeStatus({}), (s, v) => s.setBridge(v))
  }
  await Promise.all(parts.map((part) => load[part]()))
}

type Part = ViewPart

export function startEventBridge(
  client: PeerApiClient,
  store: InspectorStore,
  visibility: Visibility = pageVisibility
): () => void {
  const stop = new AbortController()
  const timers = new Map<Part, ReturnType<typeof setTimeout>>()
  const live = (): boolean => store.getState().snapshot == null
  // Parts that changed while the window was hidden, fetched once it is shown again.
  const stale = new Set<Part>()
  const unwatch = visibility.onChange((hidden) => {
    if (hidden || stale.size === 0) return
    const parts = [...stale]
    stale.clear()
    if (live()) void loadViews(client, store, parts).catch(() => {})
  })
  const refreshAll = async (): Promise<void> => {
    if (live()) await loadViews(client, store, ALL_PARTS)
  }
  // Events come in bursts; counts follow each event, and a view is re-fetched once its burst settles.
  const refreshSoon = (...parts: Part[]): void => {
    if (visibility.hidden()) {
      for (const part of parts) stale.add(part)
      return
    }
    for (const part of parts) {
      clearTimeout(timers.get(part))
      timers.set(
        part,
        setTimeout(() => {
          if (live()) void loadViews(client, store, [part]).catch(() => {})
        }, 300)
      )
    }
  }

  const clockReadings: ClockReadingSeen[] = []
  let clockTimer: ReturnType<typeof setTimeout> | undefined
  /** Forgets the readings seen, those still gathering included (the peer behind the events may have changed). */
  const forgetClocks = (): void => {
    clearTimeout(clockTimer)
    clockTimer = undefined
    clockReadings.length = 0
    store.getState().clearClocks()
  }

  const apply = (event: PeerEvent): void => {
    if (!live()) return
    const s = store.getState()
    switch (event.type) {
      case 'routing:add':
        s.peerAdded()
        refreshSoon('routing', 'node')
        break
      case 'routing:remove':
        s.peerRemoved()
        refreshSoon('routing', 'node')
        break
      case 'connection:open':
        s.adjustConnections(1)
        refreshSoon('routing')
        break
      case 'connection:close':
        s.adjustConnections(-1)
        refreshSoon('routing')
        break
      case 'clock:read':
        // A view's readings come as a burst of events (hundreds on a first view): shown together.
        clockReadings.push(event)
        clockTimer ??= setTimeout(() => {
          clockTimer = undefined
          if (live()) store.getState().clocksRead(clockReadings.splice(0))
          else clockReadings.length = 0
        }, CLOCK_BATCH_MS)
        break
      case 'peer:discovered':
        s.peerDiscovered({ peerId: event.peerId, addresses: event.addresses, at: event.at })
        break
      case 'record:stored':
        refreshSoon('records', 'node')
        break
      case 'provider:stored':
        refreshSoon('providers', 'node')
        break
      case 'query:start':
        s.queryStarted(event.query)
        break
      case 'query:step':
        s.queryStep(event.queryId, event.step)
        break
      case 'query:end':
        s.queryEnded(event.query)
        // A put or provide changes what this node holds.
        if (event.query.kind === 'put' || event.query.kind === 'provide')
          refreshSoon('records', 'providers', 'node')
        break
      case 'node:started':
        // Another peer process: the readings seen were of its predecessor's connections.
        forgetClocks()
        void refreshAll().catch(() => {})
        break
    }
  }

  void (async () => {
    let delay = 500
    while (!stop.signal.aborted) {
      try {
        store.getState().setLink('connecting')
        // Subscribe first, then load, so no event between the two is missed.
        const events = client.events({}, { signal: stop.signal })[Symbol.asyncIterator]()
        const first = events.next()
        first.catch(() => {}) // handled below, once the views are loaded
        // The peer may have restarted while the stream was down: its views have the readings it holds now.
        forgetClocks()
        await refreshAll()
        store.getState().setLink('live')
        delay = 500
        for (let next = await first; !next.done; next = await events.next()) apply(next.value)
      } catch (err) {
        if (stop.signal.aborted) return
        store.getState().setLink('offline', (err as Error).message)
      }
      await new Promise((resolve) => setTimeout(resolve, delay))
      delay = Math.min(delay * 2, 10_000)
    }
  })()

  return () => {
    for (const t of timers.values()) clearTimeout(t)
    clearTimeout(clockTimer)
    unwatch()
    stop.abort()
  }
}
