import type { StateCreator } from 'zustand'
import type { BucketsView } from '../../../../shared/views.ts'
import type { InspectorState } from '../index.ts'

export interface RoutingSlice {
  routing: BucketsView | null
  /** Peers in the routing table, kept live from routing events between full refreshes. */
  routingSize: number
  setRouting(view: BucketsView): void
  peerAdded(): void
  peerRemoved(): void
  /** A neighbour's clock was read after the view was fetched: shown without fetching it again. */
  clockRead(reading: { peerId: string; skewMs: number; rttMs: number }): void
}

export const createRoutingSlice: StateCreator<
  InspectorState,
  [['zustand/devtools', never]],
  [],
  RoutingSlice
> = (set) => ({
  routing: null,
  routingSize: 0,
  setRouting: (routing) => set({ routing, routingSize: routing.size }, false, 'routing/set'),
  peerAdded: () => set((s) => ({ routingSize: s.routingSize + 1 }), false, 'routing/add'),
  peerRemoved: () => set((s) => ({ routingSize: Math.max(0, s.routingSize - 1) }), false, 'routing/remove'),
  clockRead: ({ peerId, skewMs, rttMs }) =>
    set(
      (s) =>
        s.routing == null
          ? {}
          : {
              routing: {
                ...s.routing,
                buckets: s.routing.buckets.map((bucket) =>
                  bucket.peers.every((p) => p.peerId !== peerId)
                    ? bucket
                    : {
                        ...bucket,
                        peers: bucket.peers.map((p) =>
                          p.peerId === peerId
                            ? { ...p, clockSkewMs: skewMs, latencyMs: p.latencyMs ?? rttMs }
                            : p
                        )
                      }
                )
              }
            },
      false,
      'routing/clock'
    )
})
