/**
 * Snapshots: the inspector's state as one JSON file an engineer can send to a colleague, and opened read-only in
 * the same views. Bytes travel as wire JSON (`{ "$bytes": base64 }`).
 */
import { fromWireJson, toWireJson } from '../../../shared/wire.ts'
import type {
  BucketsView,
  NodeInfo,
  ProviderRecordsView,
  QueryTrace,
  StoredRecordView
} from '../../../shared/views.ts'
import type { InspectorStore } from './index.ts'

export const SNAPSHOT_FORMAT = 'swarm-inspector-snapshot/1'

export interface Snapshot {
  format: typeof SNAPSHOT_FORMAT
  takenAt: number
  node: NodeInfo
  routing: BucketsView
  records: StoredRecordView[]
  providers: ProviderRecordsView
  queries: QueryTrace[]
}

export function takeSnapshot(store: InspectorStore): Snapshot {
  const s = store.getState()
  if (s.node == null || s.routing == null) throw new Error('nothing to export yet: the peer has not answered')
  return {
    format: SNAPSHOT_FORMAT,
    takenAt: Date.now(),
    node: s.node,
    routing: s.routing,
    records: s.records,
    providers: s.providers,
    queries: s.queries.slice(0, 100)
  }
}

export const serializeSnapshot = (snapshot: Snapshot): string => toWireJson(snapshot)

export function parseSnapshot(text: string): Snapshot {
  let data: unknown
  try {
    data = fromWireJson(text)
  } catch (err) {
    throw new Error(`not a snapshot: ${(err as Error).message}`, { cause: err })
  }
  const s = data as Partial<Snapshot>
  if (s?.format !== SNAPSHOT_FORMAT)
    throw new Error('not a swarm-inspector snapshot (format field missing or unknown)')
  if (
    s.node == null ||
    s.routing == null ||
    !Array.isArray(s.records) ||
    s.providers == null ||
    !Array.isArray(s.queries)
  ) {
    throw new Error('the snapshot is incomplete')
  }
  return s as Snapshot
}

/** Shows a snapshot in every view, read-only; live updates pause until it is closed. */
export function openSnapshot(store: InspectorStore, snapshot: Snapshot, name: string): void {
  const s = store.getState()
  s.setSnapshot({ name, takenAt: snapshot.takenAt })
  // Live events are not followed while a snapshot is open, so the clock readings seen may be stale once it closes.
  s.clearClocks()
  s.setNode(snapshot.node)
  s.setRouting(snapshot.routing)
  s.setRecords(snapshot.records)
  s.setProviders(snapshot.providers)
  s.setQueries(snapshot.queries)
}
