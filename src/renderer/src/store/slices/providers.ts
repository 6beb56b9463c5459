import type { StateCreator } from 'zustand'
import type { ProviderRecordsView } from '../../../../shared/views.ts'
import type { InspectorState } from '../index.ts'

export interface ProvidersSlice {
  /** What this node provides, and the provider records it holds. */
  providers: ProviderRecordsView
  setProviders(providers: ProviderRecordsView): void
}

export const createProvidersSlice: StateCreator<
  InspectorState,
  [['zustand/devtools', never]],
  [],
  ProvidersSlice
> = (set) => ({
  providers: { provided: [], held: [] },
  setProviders: (providers) => set({ providers }, false, 'providers/set')
})
