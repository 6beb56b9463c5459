/**
 * One bound store made of slices, one per domain; devtools at the root. Components select single values (or use
 * useShallow) so that, for example, a routing event does not re-render the records table.
 */
import { create } from 'zustand'
import { devtools } from 'zustand/middleware'
import { createLookupsSlice, type LookupsSlice } from './slices/lookups.ts'
import { createNodeSlice, type NodeSlice } from './slices/node.ts'
import { createProvidersSlice, type ProvidersSlice } from './slices/providers.ts'
import { createRecordsSlice, type RecordsSlice } from './slices/records.ts'
import { createRoutingSlice, type RoutingSlice } from './slices/routing.ts'
import { createViewSlice, type ViewSlice } from './slices/view.ts'

export type InspectorState = NodeSlice &
  RoutingSlice &
  RecordsSlice &
  ProvidersSlice &
  LookupsSlice &
  ViewSlice

export const createInspectorStore = () =>
  create<InspectorState>()(
    devtools(
      (...a) => ({
        ...createNodeSlice(...a),
        ...createRoutingSlice(...a),
        ...createRecordsSlice(...a),
        ...createProvidersSlice(...a),
        ...createLookupsSlice(...a),
        ...createViewSlice(...a)
      }),
      { name: 'swarm-inspector', enabled: import.meta.env?.DEV === true }
    )
  )

export const useInspector = createInspectorStore()
export type InspectorStore = typeof useInspector
