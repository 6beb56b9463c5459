/**
 * The picture of one lookup: rounds left to right, log2 XOR distance to the target from far (top) to close (bottom),
 * each peer asked as a dot linked to the peer whose answer named it.
 */
import { useMemo } from 'react'
import { displayKey } from '../../../shared/bytes.ts'
import { traceRounds, type TracePeer } from '../../../shared/trace-rounds.ts'
import type { QueryTrace } from '../../../shared/views.ts'
import { EmptyState, shortId } from '../components/common.tsx'

const W = 760
const H = 300
const PAD = { left: 84, right: 16, top: 16, bottom: 36 }

export function TraceView({ query }: { query: QueryTrace }) {
  const { peers, rounds } = useMemo(() => traceRounds(query.steps), [query.steps])
  if (peers.length === 0) {
    return (
      <section className="card" aria-label="Lookup trace">
        <h3>Trace</h3>
        <EmptyState title="No remote peer was asked">
          The answer came from this node alone (no peers, or the value was local).
        </EmptyState>
      </section>
    )
  }
  const distances = peers.map((p) => p.log2Distance)
  const top = Math.ceil(Math.max(...distances))
  const bottom = Math.floor(Math.min(...distances))
  const span = Math.max(1, top - bottom)
  const x = (round: number): number =>
    PAD.left + ((round - 0.5) / Math.max(1, rounds)) * (W - PAD.left - PAD.right)
  const y = (d: number): number => PAD.top + ((top - d) / span) * (H - PAD.top - PAD.bottom)
  // Spread the dots of one round horizontally so they do not sit on each other.
  const byRound = new Map<number, TracePeer[]>()
  for (const p of peers) byRound.set(p.round, [...(byRound.get(p.round) ?? []), p])
  const colWidth = (W - PAD.left - PAD.right) / Math.max(1, rounds)
  const pos = new Map<string, { x: number; y: number }>()
  for (const [round, list] of byRound) {
    list.forEach((p, i) =>
      pos.set(p.peerId, {
        x: x(round) + (i / Math.max(1, list.length - 1) - 0.5) * colWidth * 0.6 * (list.length > 1 ? 1 : 0),
        y: y(p.log2Distance)
      })
    )
  }
  const closest = peers.reduce((a, b) => (b.log2Distance < a.log2Distance ? b : a))
  return (
    <section className="card" aria-label="Lookup trace" data-testid="trace-view">
      <h3>
        Trace: {query.kind}{' '}
        {query.topic != null ? `${query.topic}/${query.key != null ? displayKey(query.key) : ''}` : ''}
      </h3>
      <p className="muted small-text">
        {rounds} round(s), {peers.length} peer(s) asked,{' '}
        {query.durationMs != null ? `${query.durationMs} ms` : 'running'}; closest reached: log₂ distance{' '}
        {closest.log2Distance.toFixed(1)} ({shortId(closest.peerId)})
      </p>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        className="trace-picture"
        role="img"
        aria-label="Lookup rounds by XOR distance to the target"
      >
        {Array.from({ length: rounds }, (_, i) => (
          <g key={i}>
            <line x1={x(i + 1)} x2={x(i + 1)} y1={PAD.top} y2={H - PAD.bottom} className="grid" />
            <text x={x(i + 1)} y={H - 12} textAnchor="middle" className="axis-label">
              round {i + 1}
            </text>
          </g>
        ))}
        {[top, (top + bottom) / 2, bottom].map((d) => (
          <text key={d} x={PAD.left - 8} y={y(d) + 4} textAnchor="end" className="axis-label">
            {d.toFixed(0)}
          </text>
        ))}
        <text x={10} y={PAD.top + 4} className="axis-label">
          far ↑
        </text>
        <text x={10} y={H - PAD.bottom + 4} className="axis-label">
          close ↓
        </text>
        {peers.map((p) => {
          const from = p.referrer != null ? pos.get(p.referrer) : undefined
          const to = pos.get(p.peerId)!
          return from != null ? (
            <line key={`l-${p.peerId}`} x1={from.x} y1={from.y} x2={to.x} y2={to.y} className="referral" />
          ) : null
        })}
        {peers.map((p) => {
          const at = pos.get(p.peerId)!
          return (
            <circle
              key={p.peerId}
              cx={at.x}
              cy={at.y}
              r={p.peerId === closest.peerId ? 7 : 5}
              className={`peer ${p.outcome}`}
            >
              <title>
                {p.peerId}
                {'\n'}round {p.round}, log₂ distance {p.log2Distance.toFixed(2)}, {p.outcome}
                {p.rttMs != null ? `, ${p.rttMs} ms` : ''}
              </title>
            </circle>
          )
        })}
      </svg>
      <details>
        <summary>Every step ({query.steps.length})</summary>
        <table className="peer-table">
          <thead>
            <tr>
              <th>At</th>
              <th>Step</th>
              <th>Peer</th>
              <th>log₂ distance</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {query.steps.map((s, i) => (
              <tr key={i}>
                <td>{s.at} ms</td>
                <td>{s.kind}</td>
                <td className="mono">{shortId(s.peerId)}</td>
                <td>{s.log2Distance.toFixed(2)}</td>
                <td>
                  {s.kind === 'send' && s.message}
                  {s.kind === 'response' &&
                    `${s.closerPeers ?? 0} closer, ${s.providers ?? 0} providers${s.hasRecord === true ? ', record' : ''}${s.rttMs != null ? `, ${s.rttMs} ms` : ''}`}
                  {s.kind === 'error' && <span className="bad">{s.error}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </section>
  )
}
