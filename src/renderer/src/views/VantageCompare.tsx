/**
 * Two vantage points: the same lookup run on this peer and on another peer's API (a robot's `serve`), side by side —
 * what each found and through which peers it looked.
 */
import { useState, type FormEvent } from 'react'
import { isUtf8, utf8 } from '../../../shared/bytes.ts'
import type { VantageView } from '../../../shared/views.ts'
import { ErrorNote, shortId, useAsyncAction, useReadOnly } from '../components/common.tsx'
import { useTopicKey } from '../components/TopicKeyFields.tsx'
import { peerActions } from '../store/peer-actions.ts'
import { TraceView } from './TracePicture.tsx'

export function VantageCompare() {
  const readOnly = useReadOnly()
  const target = useTopicKey()
  const [api, setApi] = useState('')
  const [token, setToken] = useState('')
  const compare = useAsyncAction(peerActions.compareVantage)
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    const problem = target.problem()
    if (problem != null) compare.setError(problem)
    else
      await compare.run({
        topic: target.topic,
        key: target.key,
        api: api.trim(),
        ...(token !== '' ? { token } : {})
      })
  }
  const result = compare.result
  return (
    <section className="card" aria-label="Two vantage points">
      <form className="form" onSubmit={(e) => void submit(e)} aria-label="Compare two vantage points">
        <h3>Compare with another peer</h3>
        <p className="muted small-text">
          Run the same lookup here and on another peer's API (for example a robot's serve), and see what each
          finds and how.
        </p>
        <label>
          Other peer's API{' '}
          <input
            name="api"
            value={api}
            onChange={(e) => setApi(e.target.value)}
            placeholder="http://192.168.1.20:8080"
            required
          />
        </label>
        <label>
          API token (if it has one){' '}
          <input
            name="token"
            type="password"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            autoComplete="off"
          />
        </label>
        {target.fields}
        <button type="submit" disabled={compare.pending || readOnly}>
          {compare.pending ? 'Looking up on both…' : 'Compare'}
        </button>
        <ErrorNote error={compare.error} />
      </form>
      {result != null && (
        <div className="columns" data-testid="vantage-result">
          <Side title="This node" view={result.here} testId="vantage-here" />
          <Side title="The other peer" view={result.there} testId="vantage-there" />
        </div>
      )}
    </section>
  )
}

function Side({ title, view, testId }: { title: string; view: VantageView; testId: string }) {
  return (
    <div className="grow vantage-side" data-testid={testId}>
      <h4>
        {title} <span className="mono muted">{view.peerId !== '' ? shortId(view.peerId) : ''}</span>
      </h4>
      {view.error != null ? (
        <p className="error-note">{view.error}</p>
      ) : view.record == null ? (
        <p className="bad">Not found from here</p>
      ) : (
        <dl className="facts">
          <dt>Value</dt>
          <dd className="mono">
            {isUtf8(view.record.value)
              ? utf8.decode(view.record.value)
              : `${view.record.value.byteLength} bytes`}
          </dd>
          <dt>Publisher</dt>
          <dd className="mono">{shortId(view.record.publisher)}</dd>
          <dt>Answered by</dt>
          <dd className="mono">{shortId(view.record.from)}</dd>
        </dl>
      )}
      {view.trace != null && <TraceView query={view.trace} />}
    </div>
  )
}
