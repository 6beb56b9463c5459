/** The put and get forms: validated here before anything is sent, errors shown inline with the API's message. */
import { useState, type FormEvent } from 'react'
import { checkValue } from '../../../shared/topic-key.ts'
import { useTopicKey } from '../components/TopicKeyFields.tsx'
import { encodeValue, type ValueEncoding } from '../../../shared/value-encoding.ts'
import type { GetRecordResult } from '../../../shared/views.ts'
import { ErrorNote, useAsyncAction, useReadOnly } from '../components/common.tsx'
import { ValueViewer } from '../components/ValueViewer.tsx'
import { peerActions } from '../store/peer-actions.ts'
import { useInspector } from '../store/index.ts'

type PutEncoding = ValueEncoding | 'file'

export function PutRecordForm() {
  const readOnly = useReadOnly()
  const target = useTopicKey({ topic: 'charging_pause', key: 'robot-1' })
  const { topic, key } = target
  const [encoding, setEncoding] = useState<PutEncoding>('utf8')
  const [text, setText] = useState('')
  const [file, setFile] = useState<File | null>(null)
  const put = useAsyncAction(peerActions.putRecord)

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    let value: Uint8Array
    try {
      const problem = target.problem()
      if (problem != null) throw new Error(problem)
      if (encoding === 'file') {
        if (file == null) throw new Error('choose a file')
        value = new Uint8Array(await file.arrayBuffer())
      } else {
        value = encodeValue(text, encoding)
      }
      checkValue(value)
    } catch (err) {
      put.setError((err as Error).message)
      return
    }
    await put.run({ topic, key, value })
  }

  return (
    <form className="card form" onSubmit={(e) => void submit(e)} aria-label="Put a record">
      <h3>Put a record</h3>
      {target.fields}
      <label>
        Value as
        <select name="encoding" value={encoding} onChange={(e) => setEncoding(e.target.value as PutEncoding)}>
          <option value="utf8">text (UTF-8)</option>
          <option value="json">JSON</option>
          <option value="cbor">CBOR (from JSON)</option>
          <option value="hex">hex</option>
          <option value="file">file</option>
        </select>
      </label>
      {encoding === 'file' ? (
        <label>
          File <input name="file" type="file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </label>
      ) : (
        <label>
          Value{' '}
          <textarea
            name="value"
            value={text}
            onChange={(e) => setText(e.target.value)}
            rows={3}
            placeholder={encoding === 'hex' ? 'de ad be ef' : encoding === 'utf8' ? '1h' : '{"battery": 83}'}
          />
        </label>
      )}
      <button type="submit" disabled={put.pending || readOnly}>
        {put.pending ? 'Putting…' : 'Put'}
      </button>
      <ErrorNote error={put.error} />
      {put.result != null && (
        <p className="ok-note" data-testid="put-result">
          Stored here and on {put.result.accepted} of {put.result.sentTo} peer(s).
        </p>
      )}
    </form>
  )
}

export function GetRecordForm() {
  const readOnly = useReadOnly()
  const target = useTopicKey()
  const { topic, key } = target
  const get = useAsyncAction(peerActions.getRecord)
  const showTrace = (id: string): void => {
    useInspector.getState().selectQuery(id)
    useInspector.getState().setTab('lookups')
  }
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    const problem = target.problem()
    if (problem != null) get.setError(problem)
    else await get.run({ topic, key })
  }
  const result: GetRecordResult | null = get.result
  return (
    <form className="card form" onSubmit={(e) => void submit(e)} aria-label="Get a record">
      <h3>Get a record</h3>
      {target.fields}
      <button type="submit" disabled={get.pending || readOnly}>
        {get.pending ? 'Looking up…' : 'Get'}
      </button>
      <ErrorNote error={get.error} />
      {result != null && (
        <div data-testid="get-result">
          {result.record == null ? (
            <p className="muted">No record for this topic and key.</p>
          ) : (
            <>
              <dl className="facts">
                <dt>Publisher</dt>
                <dd className="mono" data-testid="get-publisher">
                  {result.record.publisher}
                </dd>
                <dt>Answered by</dt>
                <dd className="mono">{result.record.from}</dd>
                <dt>Created</dt>
                <dd>{new Date(result.record.createdAt).toLocaleString()}</dd>
              </dl>
              <ValueViewer value={result.record.value} />
            </>
          )}
          <button type="button" className="link-button" onClick={() => showTrace(result.queryId)}>
            Show the lookup trace
          </button>
        </div>
      )}
    </form>
  )
}
