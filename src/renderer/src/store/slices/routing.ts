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
  peerRemoved: () => set((s) => ({ routingSize: Math.max(0, s.routingSize - 1) }), false, 'routing/remove')
})
