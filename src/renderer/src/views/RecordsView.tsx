/** Topic records: topics with counts, a virtualized table per topic, the value viewer, and the put/get forms. */
import { useVirtualizer } from '@tanstack/react-virtual'
import { useMemo, useRef, useState } from 'react'
import { utf8, isUtf8, toHex } from '../../../shared/bytes.ts'
import type { StoredRecordView } from '../../../shared/views.ts'
import { ago, EmptyState, shortId } from '../components/common.tsx'
import { ValueViewer } from '../components/ValueViewer.tsx'
import { useInspector } from '../store/index.ts'
import { topicsOf } from '../store/slices/records.ts'
import { GetRecordForm, PutRecordForm } from './RecordForms.tsx'
import { ReplicationCheck } from './ReplicationCheck.tsx'

function preview(value: Uint8Array): string {
  if (isUtf8(value)) return utf8.decode(value.subarray(0, 80)).replace(/\s+/g, ' ')
  return `0x${toHex(value.subarray(0, 24))}${value.length > 24 ? '…' : ''}`
}

export function RecordsView() {
  const records = useInspector((s) => s.records)
  const topics = useMemo(() => topicsOf(records), [records])
  const [chosen, setChosen] = useState<string | null>(null)
  const topic = chosen != null && topics.some((t) => t.topic === chosen) ? chosen : (topics[0]?.topic ?? null)
  const rows = useMemo(() => records.filter((r) => r.topic === topic), [records, topic])
  const [selected, setSelected] = useState<string | null>(null)
  const record = rows.find((r) => `${r.topic}/${r.keyDisplay}` === selected) ?? null

  return (
    <div className="records-view">
      <div className="columns">
        <section className="card topics" aria-label="Topics">
          <h3>Topics</h3>
          {topics.length === 0 ? (
            <EmptyState title="No records stored here yet">
              Put one with the form, or wait for peers to store theirs here.
            </EmptyState>
          ) : (
            <ul className="topic-list" role="listbox" aria-label="Topics">
              {topics.map((t) => (
                <li key={t.topic}>
                  <button
                    type="button"
                    role="option"
                    aria-selected={t.topic === topic}
                    className={t.topic === topic ? 'active' : ''}
                    onClick={() => setChosen(t.topic)}
                  >
                    <span>{t.topic}</span>
                    <span className="count">{t.count}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="card grow" aria-label="Records">
          <h3>{topic != null ? `Records under “${topic}”` : 'Records'}</h3>
          {rows.length > 0 && <RecordTable rows={rows} selected={selected} onSelect={setSelected} />}
          {record != null && (
            <div className="record-detail" data-testid="record-detail">
              <h4 className="mono">
                {record.topic}/{record.keyDisplay}
              </h4>
              <ValueViewer value={record.value} />
            </div>
          )}
        </section>
      </div>
      <div className="columns">
        <PutRecordForm />
        <GetRecordForm />
      </div>
      <ReplicationCheck />
    </div>
  )
}

const ROW = 30

function RecordTable({
  rows,
  selected,
  onSelect
}: {
  rows: StoredRecordView[]
  selected: string | null
  onSelect: (id: string) => void
}) {
  const parent = useRef<HTMLDivElement>(null)
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => parent.current,
    estimateSize: () => ROW,
    overscan: 12
  })
  const now = Date.now()
  return (
    <div className="table" role="table" aria-label="Records" data-testid="records-table">
      <div className="row head" role="row">
        <span role="columnheader">Key</span>
        <span role="columnheader">Value</span>
        <span role="columnheader">Size</span>
        <span role="columnheader">Publisher</span>
        <span role="columnheader">Age / expiry</span>
        <span role="columnheader">Signature</span>
      </div>
      <div ref={parent} className="scroll" style={{ maxHeight: 360 }}>
        <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
          {virtual.getVirtualItems().map((item) => {
            const r = rows[item.index]!
            const id = `${r.topic}/${r.keyDisplay}`
            return (
              <div
                key={id}
                role="row"
                tabIndex={0}
                aria-selected={selected === id}
                className={`row ${selected === id ? 'selected' : ''}`}
                style={{ position: 'absolute', top: item.start, height: ROW, left: 0, right: 0 }}
                onClick={() => onSelect(id)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') onSelect(id)
                }}
              >
                <span className="mono" role="cell">
                  {r.keyDisplay}
                  {r.mine && <span className="tag">mine</span>}
                </span>
                <span role="cell" className="ellipsis">
                  {preview(r.value)}
                </span>
                <span role="cell">{r.size} B</span>
                <span role="cell" className="mono" title={r.publisher}>
                  {shortId(r.publisher)}
                </span>
                <span role="cell">
                  {ago(r.createdAt, now)} / {ago(r.expiresAt, now)}
                </span>
                <span role="cell" className={r.signature === 'valid' ? 'good' : 'bad'}>
                  {r.signature}
                </span>
              </div>
            )
          })}
        </div>
      </div>
    </div>
  )
}
