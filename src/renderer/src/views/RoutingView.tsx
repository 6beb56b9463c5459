/**
 * The routing table: every non-empty k-bucket by common prefix length with its fill, a strip showing where its
 * peers sit by XOR distance, and its peers on demand. Updates live from routing events.
 */
import { useMemo, useState } from 'react'
import type { BucketView, RoutingPeerView } from '../../../shared/views.ts'
import { ago, EmptyState, shortId } from '../components/common.tsx'
import { useInspector } from '../store/index.ts'

export function RoutingView() {
  const routing = useInspector((s) => s.routing)
  const [filter, setFilter] = useState('')
  const [open, setOpen] = useState<Set<number>>(new Set())
  const buckets = useMemo(() => {
    if (routing == null) return []
    const f = filter.trim()
    return routing.buckets
      .map((b) => ({ ...b, peers: f === '' ? b.peers : b.peers.filter((p) => p.peerId.includes(f)) }))
      .filter((b) => b.peers.length > 0)
  }, [routing, filter])
  if (routing == null) return <EmptyState title="Waiting for the peer…" />
  const maxCpl = routing.buckets.reduce((m, b) => Math.max(m, b.cpl), 0)
  const empty = Array.from({ length: maxCpl + 1 }, (_, i) => i).filter(
    (cpl) => !routing.buckets.some((b) => b.cpl === cpl)
  )
  const toggle = (cpl: number): void =>
    setOpen((previous) => {
      const next = new Set(previous)
      if (next.has(cpl)) next.delete(cpl)
      else next.add(cpl)
      return next
    })
  return (
    <section className="card" aria-label="Routing table">
      <div className="section-head">
        <h3>
          Routing table:{' '}
          <span data-testid="routing-summary">
            {routing.size} peer(s) in {routing.buckets.length} bucket(s)
          </span>
          , k = {routing.k}
        </h3>
        <input
          type="search"
          placeholder="Filter by peer id"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          aria-label="Filter by peer id"
        />
      </div>
      {routing.size === 0 ? (
        <EmptyState title="No peers yet">
          Add a bootstrap address or dial a peer on the Overview tab; peers on the LAN appear by mDNS.
        </EmptyState>
      ) : (
        <>
          <p className="muted small-text">
            Each bar is a k-bucket: peers whose id shares <em>cpl</em> leading bits with ours. Dots sit by XOR
            distance within the bucket (left: closer).
          </p>
          <ol className="buckets" data-testid="buckets">
            {buckets.map((b) => (
              <Bucket
                key={b.cpl}
                bucket={b}
                k={routing.k}
                open={open.has(b.cpl)}
                onToggle={() => toggle(b.cpl)}
              />
            ))}
          </ol>
          {empty.length > 0 && <p className="muted small-text">Empty buckets: cpl {compactRanges(empty)}</p>}
        </>
      )}
    </section>
  )
}

function Bucket({
  bucket,
  k,
  open,
  onToggle
}: {
  bucket: BucketView
  k: number
  open: boolean
  onToggle: () => void
}) {
  const low = 255 - bucket.cpl
  return (
    <li className="bucket">
      <button type="button" className="bucket-head" aria-expanded={open} onClick={onToggle}>
        <span className="cpl">cpl {bucket.cpl}</span>
        <span className="fill" title={`${bucket.peers.length} of ${k}`}>
          <span
            className="fill-bar"
            style={{ width: `${Math.min(100, (bucket.peers.length / k) * 100)}%` }}
          />
        </span>
        <span className="count">
          {bucket.peers.length}/{k}
        </span>
        <span className="strip" aria-hidden="true">
          {bucket.peers.map((p) => (
            <span
              key={p.peerId}
              className={`dot ${p.connected ? 'connected' : ''}`}
              style={{ left: `${Math.max(0, Math.min(1, p.log2Distance - low)) * 100}%` }}
              title={p.peerId}
            />
          ))}
        </span>
      </button>
      {open && <PeerTable peers={bucket.peers} />}
    </li>
  )
}

function PeerTable({ peers }: { peers: RoutingPeerView[] }) {
  return (
    <table className="peer-table">
      <thead>
        <tr>
          <th>Peer</th>
          <th>log₂ distance</th>
          <th>Connected</th>
          <th>Latency</th>
          <th>DHT mode</th>
          <th>Clock skew</th>
          <th>Reached via</th>
          <th>Agent</th>
          <th>Addresses</th>
          <th>Added</th>
          <th>Last seen</th>
        </tr>
      </thead>
      <tbody>
        {peers.map((p) => (
          <tr key={p.peerId}>
            <td className="mono" title={p.peerId}>
              {shortId(p.peerId)}
            </td>
            <td>{p.log2Distance.toFixed(2)}</td>
            <td className={p.connected ? 'good' : 'muted'}>{p.connected ? 'yes' : 'no'}</td>
            <td>{p.latencyMs != null ? `${p.latencyMs} ms` : '—'}</td>
            <td>{p.dhtMode ?? '—'}</td>
            <td className={p.clockSkewMs != null && Math.abs(p.clockSkewMs) > 60_000 ? 'bad' : undefined}>
              {p.clockSkewMs != null ? `${p.clockSkewMs > 0 ? '+' : ''}${p.clockSkewMs} ms` : '—'}
            </td>
            <td className="mono small-text">
              {p.localAddress != null ? `${p.localInterface ?? '?'} ${p.localAddress}` : '—'}
            </td>
            <td>{p.agent ?? '—'}</td>
            <td className="mono small-text">{p.addresses.join(' ')}</td>
            <td>{ago(p.addedAt)}</td>
            <td>{ago(p.lastSeen)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

export function compactRanges(numbers: number[]): string {
  const out: string[] = []
  for (let i = 0; i < numbers.length; i++) {
    let j = i
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++
    out.push(i === j ? `${numbers[i]}` : `${numbers[i]}–${numbers[j]}`)
    i = j
  }
  return out.join(', ')
}
