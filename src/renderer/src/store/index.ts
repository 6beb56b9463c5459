/**
 * One bound store made of slices, one per domain; devtools at the root. Components select single values (or use
 * useShallow) so that, for example, a routing event does not re-render the node header.
 */
import { create } from 'zustand'
import { devtools } from 'zustand/middleware'
import { createNodeSlice, type NodeSlice } from './slices/node.ts'
import { createRoutingSlice, type RoutingSlice } from './slices/routing.ts'

export type InspectorState = NodeSlice & RoutingSlice

export const createInspectorStore = () =>
  create<InspectorState>()(
    devtools((...a) => ({ ...createNodeSlice(...a), ...createRoutingSlice(...a) }), {
      name: 'swarm-inspector'
    })
  )

export const useInspector = createInspectorStore()
