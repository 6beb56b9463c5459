import type { StateCreator } from 'zustand'
import type { InspectorState } from '../index.ts'

export const TABS = ['overview', 'routing', 'records', 'providers', 'lookups'] as const
export type Tab = (typeof TABS)[number]

export interface SnapshotInfo {
  name: string
  takenAt: number
}

export interface ViewSlice {
  tab: Tab
  /** Set while a snapshot is open: every view shows it read-only and live updates are paused. */
  snapshot: SnapshotInfo | null
  setTab(tab: Tab): void
  setSnapshot(snapshot: SnapshotInfo | null): void
}

export const createViewSlice: StateCreator<InspectorState, [['zustand/devtools', never]], [], ViewSlice> = (
  set
) => ({
  tab: 'overview',
  snapshot: null,
  setTab: (tab) => set({ tab }, false, 'view/tab'),
  setSnapshot: (snapshot) => set({ snapshot }, false, 'view/snapshot')
})
