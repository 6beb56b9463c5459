import type { StateCreator } from 'zustand'
import type { BucketsView, RoutingPeerView } from '../../../../shared/views.ts'
import type { InspectorState } from '../index.ts'

/** A neighbour's clock reading, as the peer's `clock:read` event gives it. */
export interface ClockReadingSeen {
  skewMs: number
  rttMs: number
}

export interface RoutingSlice {
  routing: BucketsView | null
  /** Peers in the routing table, kept live from routing events between full refreshes. */
  routingSize: number
  /**
   * The latest clock reading per peer from the live events. A reading may come in before the view that lacks it (the
   * event and the view's answer travel separately), so a view just loaded takes the readings it lacks from here.
   */
  clocks: Record<string, ClockReadingSeen>
  /** Shows a view as it is (a snapshot's, say). */
  setRouting(view: BucketsView): void
  /** Shows a view just fetched from the live peer, with the clock readings it lacks. */
  routingLoaded(view: BucketsView): void
  peerAdded(): void
  peerRemoved(): void
  /** A neighbour's clock was read: shown without fetching the view again. */
  clockRead(reading: { peerId: string } & ClockReadingSeen): void
}

/** The view with each connected peer's skew and latency, where it lacks them, taken from `clocks`. */
function withClocks(
  view: BucketsView,
  clocks: Record<string, ClockReadingSeen>,
  replace = false
): BucketsView {
  const patched = (p: RoutingPeerView): RoutingPeerView => {
    const seen = clocks[p.peerId]
    if (seen == null || !p.connected) return p
    return {
      ...p,
      clockSkewMs: replace ? seen.skewMs : (p.clockSkewMs ?? seen.skewMs),
      latencyMs: p.latencyMs ?? seen.rttMs
    }
  }
  return { ...view, buckets: view.buckets.map((b) => ({ ...b, peers: b.peers.map(patched) })) }
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
  clockRead: ({ peerId, skewMs, rttMs }) =>
    set(
      (s) => {
        const latest = { [peerId]: { skewMs, rttMs } }
        // The newest reading replaces the skew shown.
        return {
          clocks: { ...s.clocks, ...latest },
          routing: s.routing == null ? null : withClocks(s.routing, latest, true)
        }
      },
      false,
      'routing/clock'
    )
})
