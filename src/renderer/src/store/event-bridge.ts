/**
 * The module-level bridge between the peer and the store: loads the views, then follows the peer's event stream
 * and calls store actions, so components never touch IPC or HTTP. Reconnects with backoff when the stream drops
 * (the peer restarted, the daemon went away).
 */
import type { PeerApiClient } from '../../../shared/api-contract.ts'
import type { PeerEvent } from '../../../shared/events.ts'
import type { useInspector } from './index.ts'

type Store = typeof useInspector

export function startEventBridge(client: PeerApiClient, store: Store): () => void {
  const stop = new AbortController()
  let refreshTimer: ReturnType<typeof setTimeout> | undefined

  const refresh = async (): Promise<void> => {
    const [node, routing] = await Promise.all([client.nodeInfo({}), client.routingTable({})])
    store.getState().setNode(node)
    store.getState().setRouting(routing)
  }
  // Routing events arrive in bursts; the counts follow each event, the full view is fetched once the burst settles.
  const refreshSoon = (): void => {
    clearTimeout(refreshTimer)
    refreshTimer = setTimeout(() => void refresh().catch(() => {}), 500)
  }

  const apply = (event: PeerEvent): void => {
    const s = store.getState()
    switch (event.type) {
      case 'routing:add':
        s.peerAdded()
        refreshSoon()
        break
      case 'routing:remove':
        s.peerRemoved()
        refreshSoon()
        break
      case 'connection:open':
        s.adjustConnections(1)
        break
      case 'connection:close':
        s.adjustConnections(-1)
        break
      case 'node:started':
        refreshSoon()
        break
      default:
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
        await refresh()
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
    clearTimeout(refreshTimer)
    stop.abort()
  }
}
