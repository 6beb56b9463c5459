/**
 * Lookups: every DHT query live (kind, topic/key, duration, peers asked, outcome), and for one query a picture of
 * the iterative lookup: rounds left to right, XOR distance to the target top (far) to bottom (close), each peer
 * asked as a dot linked to the peer whose answer named it — the lookup converging on the closest peers.
 */
import { useVirtualizer } from '@tanstack/react-virtual'
import { useRef } from 'react'
import { displayKey } from '../../../shared/bytes.ts'
import { EmptyState } from '../components/common.tsx'
import { useInspector } from '../store/index.ts'
import { VantageCompare } from './VantageCompare.tsx'
import { TraceView } from './TracePicture.tsx'

const ROW = 30

export function LookupsView() {
  const queries = useInspector((s) => s.queries)
  const selectedId = useInspector((s) => s.selectedQueryId)
  const select = useInspector((s) => s.selectQuery)
  const selected = queries.find((q) => q.id === selectedId) ?? null
  const parent = useRef<HTMLDivElement>(null)
  const virtual = useVirtualizer({
    count: queries.length,
    getScrollElement: () => parent.current,
    estimateSize: () => ROW,
    overscan: 10
  })
  return (
    <div className="lookups-view">
      <section className="card" aria-label="Queries">
        <h3>DHT queries</h3>
        {queries.length === 0 ? (
          <EmptyState title="No lookups yet">
            Get a record or find providers: each lookup appears here as it runs.
          </EmptyState>
        ) : (
          <div className="table" role="table" aria-label="Queries" data-testid="queries-table">
            <div className="row head query-row" role="row">
              <span role="columnheader">Kind</span>
              <span role="columnheader">Topic / key</span>
              <span role="columnheader">Duration</span>
              <span role="columnheader">Peers asked</span>
              <span role="columnheader">Outcome</span>
            </div>
            <div ref={parent} className="scroll" style={{ maxHeight: 240 }}>
              <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
                {virtual.getVirtualItems().map((item) => {
                  const q = queries[item.index]!
                  return (
                    <div
                      key={q.id}
                      role="row"
                      tabIndex={0}
                      aria-selected={q.id === selectedId}
                      className={`row query-row ${q.id === selectedId ? 'selected' : ''}`}
                      style={{ position: 'absolute', top: item.start, height: ROW, left: 0, right: 0 }}
                      onClick={() => select(q.id)}
                      onKeyDown={(e) => {
                        if (e.key === 'Enter' || e.key === ' ') select(q.id)
                      }}
                    >
                      <span role="cell">{q.kind}</span>
                      <span role="cell" className="mono ellipsis">
                        {q.topic != null
                          ? `${q.topic}/${q.key != null ? displayKey(q.key) : ''}`
                          : q.target.slice(0, 16)}
                      </span>
                      <span role="cell">{q.durationMs != null ? `${q.durationMs} ms` : 'running…'}</span>
                      <span role="cell">{q.peersAsked}</span>
                      <span
                        role="cell"
                        title={q.result ?? undefined}
                        className={`ellipsis ${q.status === 'ok' ? 'good' : q.status === 'failed' ? 'bad' : 'muted'}`}
                      >
                        {q.status}
                        {q.result != null ? ` · ${q.result}` : ''}
                      </span>
                    </div>
                  )
                })}
              </div>
            </div>
          </div>
        )}
      </section>
      {selected != null ? (
        <TraceView query={selected} />
      ) : (
        queries.length > 0 && <p className="muted">Select a query to see how it travelled.</p>
      )}
      <VantageCompare />
    </div>
  )
}
