import type { StateCreator } from 'zustand'
import type { QueryStep, QueryTrace } from '../../../../shared/views.ts'
import type { InspectorState } from '../index.ts'

const KEEP = 500

export interface LookupsSlice {
  /** Newest first. */
  queries: QueryTrace[]
  selectedQueryId: string | null
  setQueries(queries: QueryTrace[]): void
  queryStarted(query: Omit<QueryTrace, 'steps'>): void
  queryStep(queryId: string, step: QueryStep): void
  queryEnded(query: Omit<QueryTrace, 'steps'>): void
  selectQuery(id: string | null): void
}

export const createLookupsSlice: StateCreator<
  InspectorState,
  [['zustand/devtools', never]],
  [],
  LookupsSlice
> = (set) => ({
  queries: [],
  selectedQueryId: null,
  setQueries: (queries) =>
    set(
      { queries: [...queries].sort((a, b) => b.startedAt - a.startedAt).slice(0, KEEP) },
      false,
      'lookups/set'
    ),
  queryStarted: (query) =>
    set(
      (s) => ({
        queries: [{ ...query, steps: [] }, ...s.queries.filter((q) => q.id !== query.id)].slice(0, KEEP)
      }),
      false,
      'lookups/start'
    ),
  queryStep: (queryId, step) =>
    set(
      (s) => ({
        queries: s.queries.map((q) =>
          q.id === queryId
            ? {
                ...q,
                steps: [...q.steps, step],
                peersAsked:
                  step.kind === 'send' && !q.steps.some((x) => x.peerId === step.peerId)
                    ? q.peersAsked + 1
                    : q.peersAsked
              }
            : q
        )
      }),
      false,
      'lookups/step'
    ),
  queryEnded: (query) =>
    set(
      (s) => ({ queries: s.queries.map((q) => (q.id === query.id ? { ...q, ...query } : q)) }),
      false,
      'lookups/end'
    ),
  selectQuery: (selectedQueryId) => set({ selectedQueryId }, false, 'lookups/select')
})
