/**
 * The module-level bridge between the peer and the store: loads every view, then follows the peer's event stream
 * and calls store actions, so components never touch IPC or HTTP. Reconnects with backoff when the stream drops (the
 * peer restarted, the daemon went away). Paused while a snapshot is open.
 */
import type { PeerApiClient } from '../../../shared/api-contract.ts'
import type { PeerEvent } from '../../../shared/events.ts'
import type { InspectorStore } from './index.ts'
import { pageVisibility, type Visibility } from './page-visibility.ts'

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
  const load: Record<ViewPart, () => Promise<void>> = {
    node: async () => store.getState().setNode(await client.nodeInfo({})),
    routing: async () => store.getState().routingLoaded(await client.routingTable({})),
    records: async () => store.getState().setRecords(await client.records({})),
    providers: async () => store.getState().setProviders(await client.providerRecords({})),
    queries: async () => store.getState().setQueries(await client.queries({})),
    settings: async () => store.getState().setSettings(await client.settings({})),
    bridge: async () => store.getState().setBridge(await client.bridgeStatus({}))
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
        s.clockRead(event)
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
    unwatch()
    stop.abort()
  }
}
