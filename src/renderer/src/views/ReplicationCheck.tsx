/**
 * Replication check: for one record (or one key's providers), what each of the k closest peers holds — the holders,
 * the missing and the stale — with a repair that re-sends the newest signed record to them.
 */
import { useState, type FormEvent } from 'react'
import { ago, EmptyState, ErrorNote, shortId, useAsyncAction, useReadOnly } from '../components/common.tsx'
import { useTopicKey } from '../components/TopicKeyFields.tsx'
import { peerActions } from '../store/peer-actions.ts'

export function ReplicationCheck() {
  const readOnly = useReadOnly()
  const target = useTopicKey()
  const [kind, setKind] = useState<'record' | 'providers'>('record')
  const check = useAsyncAction(peerActions.checkReplication)
  const repair = useAsyncAction(peerActions.repairReplication)
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    const problem = target.problem()
    if (problem != null) check.setError(problem)
    else await check.run({ topic: target.topic, key: target.key, kind })
  }
  const report = check.result
  const broken = report?.replicas.filter((r) => r.status !== 'holder').length ?? 0
  return (
    <form className="card form" onSubmit={(e) => void submit(e)} aria-label="Replication check">
      <h3>Replication check</h3>
      {target.fields}
      <label>
        Check
        <select name="kind" value={kind} onChange={(e) => setKind(e.target.value as 'record' | 'providers')}>
          <option value="record">the record</option>
          <option value="providers">its providers</option>
        </select>
      </label>
      <button type="submit" disabled={check.pending || readOnly}>
        {check.pending ? 'Asking the closest peers…' : 'Check'}
      </button>
      <ErrorNote error={check.error} />
      {report != null &&
        (report.replicas.length === 0 ? (
          <EmptyState title="No peers are close to this key yet">Join the swarm first.</EmptyState>
        ) : (
          <>
            <p data-testid="replication-summary">
              {report.replicas.length - broken} of {report.replicas.length} closest peers hold{' '}
              {report.kind === 'record' ? 'the newest version' : 'provider records'}
              {report.newest != null &&
                ` (by ${shortId(report.newest.publisher)}, ${ago(report.newest.createdAt)})`}
              .
            </p>
            <table className="peer-table" data-testid="replicas">
              <thead>
                <tr>
                  <th>Peer</th>
                  <th>log₂ distance</th>
                  <th>Status</th>
                  <th>Version / providers</th>
                </tr>
              </thead>
              <tbody>
                {report.replicas.map((r) => (
                  <tr key={r.peerId}>
                    <td className="mono" title={r.peerId}>
                      {shortId(r.peerId)}
                    </td>
                    <td>{r.log2Distance.toFixed(2)}</td>
                    <td className={r.status === 'holder' ? 'good' : 'bad'}>{r.status}</td>
                    <td className="small-text">
                      {r.publisher != null && `by ${shortId(r.publisher)}, ${ago(r.createdAt ?? null)}`}
                      {r.providers != null && r.providers.map(shortId).join(', ')}
                      {r.detail}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {report.kind === 'record' && broken > 0 && (
              <button
                type="button"
                disabled={repair.pending || readOnly}
                onClick={() =>
                  void repair
                    .run({ topic: report.topic, key: target.key })
                    .then(() => check.run({ topic: report.topic, key: target.key, kind }))
                }
              >
                {repair.pending ? 'Repairing…' : 'Repair: re-send the newest record'}
              </button>
            )}
            <ErrorNote error={repair.error} />
          </>
        ))}
    </form>
  )
}
