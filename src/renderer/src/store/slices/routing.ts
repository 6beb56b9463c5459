import type { StateCreator } from 'zustand'
import type { BucketsView, RoutingPeerView } from '../../../../shared/views.ts'
import type { InspectorState } from '../index.ts'

/** A neighbour's clock reading, as the peer's `clock:read` event gives it. */
export interface ClockReadingSeen {
  peerId: string
  skewMs: number
  rttMs: number
  /** When it was taken (the peer's clock). */
  at: number
}

export interface RoutingSlice {
  routing: BucketsView | null
  /** Peers in the routing table, kept live from routing events between full refreshes. */
  routingSize: number
  /**
   * The latest clock reading per peer from the live events. The events and a view's answer travel separately, so a
   * view may arrive after a reading newer than its own: a view just loaded shows whichever is newer.
   */
  clocks: Record<string, ClockReadingSeen>
  /** Shows a view as it is (a snapshot's, say). */
  setRouting(view: BucketsView): void
  /** Shows a view just fetched from the live peer, with the newer clock readings the events brought. */
  routingLoaded(view: BucketsView): void
  peerAdded(): void
  peerRemoved(): void
  /** Neighbours' clocks were read: shown without fetching the view again. */
  clocksRead(readings: ClockReadingSeen[]): void
  /** Forgets the readings seen (the peer behind the events changed or restarted). */
  clearClocks(): void
}

/** The view with each connected peer's clock reading replaced by a newer one from `clocks`; the same view if none. */
function withClocks(view: BucketsView, clocks: Record<string, ClockReadingSeen>): BucketsView {
  const newer = (p: RoutingPeerView): ClockReadingSeen | null => {
    const seen = clocks[p.peerId]
    return seen != null && p.connected && seen.at > (p.clockReadAt ?? Number.NEGATIVE_INFINITY) ? seen : null
  }
  let changed = false
  const buckets = view.buckets.map((bucket) => {
    const peers = bucket.peers.map((p) => {
      const seen = newer(p)
      // The view's latency is the reading's round trip (libp2p's connection monitor, which would measure its own,
      // is replaced by yamux pings that do not).
      return seen == null
        ? p
        : { ...p, clockSkewMs: seen.skewMs, latencyMs: seen.rttMs, clockReadAt: seen.at }
    })
    if (peers.every((p, i) => p === bucket.peers[i])) return bucket
    changed = true
    return { ...bucket, peers }
  })
  return changed ? { ...view, buckets } : view
}

export const createRoutingSlice: StateCreator<
  InspectorState,
  [['zustand/devtools', never]],
  [],
  RoutingSlice
> = (set) => ({
  routing: null,
  routingSize: 0,
  clocks: {},
  setRouting: (routing) => set({ routing, routingSize: routing.size }, false, 'routing/set'),
  routingLoaded: (view) =>
    set((s) => ({ routing: withClocks(view, s.clocks), routingSize: view.size }), false, 'routing/loaded'),
  peerAdded: () => set((s) => ({ routingSize: s.routingSize + 1 }), false, 'routing/add'),
  peerRemoved: () => set((s) => ({ routingSize: Math.max(0, s.routingSize - 1) }), false, 'routing/remove'),
  clocksRead: (readings) =>
    set(
      (s) => {
        const latest: Record<string, ClockReadingSeen> = {}
        for (const r of readings)
          if (r.at >= (latest[r.peerId]?.at ?? Number.NEGATIVE_INFINITY)) latest[r.peerId] = r
        return {
          clocks: { ...s.clocks, ...latest },
          routing: s.routing == null ? null : withClocks(s.routing, latest)
        }
      },
      false,
      'routing/clocks'
    ),
  clearClocks: () => set({ clocks: {} }, false, 'routing/clear-clocks')
})
