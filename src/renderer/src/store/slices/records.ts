import type { StateCreator } from 'zustand'
import type { StoredRecordView } from '../../../../shared/views.ts'
import type { InspectorState } from '../index.ts'

export interface RecordsSlice {
  records: StoredRecordView[]
  setRecords(records: StoredRecordView[]): void
}

export const createRecordsSlice: StateCreator<
  InspectorState,
  [['zustand/devtools', never]],
  [],
  RecordsSlice
> = (set) => ({
  records: [],
  setRecords: (records) => set({ records }, false, 'records/set')
})

/** Topics with their record counts, sorted by name. */
export function topicsOf(records: StoredRecordView[]): Array<{ topic: string; count: number }> {
  const counts = new Map<string, number>()
  for (const r of records) counts.set(r.topic, (counts.get(r.topic) ?? 0) + 1)
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([topic, count]) => ({ topic, count }))
}
