/** Providers: what this node provides, the provider records it holds, and the provide / find-providers forms. */
import { useRef, useState, type FormEvent } from 'react'
import type { ProviderFound, ProviderKeyView } from '../../../shared/views.ts'
import { ago, EmptyState, ErrorNote, shortId, useAsyncAction, useReadOnly } from '../components/common.tsx'
import { peerActions } from '../store/peer-actions.ts'
import { useTopicKey } from '../components/TopicKeyFields.tsx'
import { useInspector } from '../store/index.ts'

const keyName = (k: ProviderKeyView): string => (k.topic != null ? `${k.topic}/${k.keyDisplay}` : k.cid)

export function ProvidersView() {
  const providers = useInspector((s) => s.providers)
  const readOnly = useReadOnly()
  const stop = useAsyncAction(peerActions.stopProviding)
  return (
    <div className="providers-view">
      <div className="columns">
        <section className="card grow" aria-label="Provided by this node">
          <h3>Provided by this node</h3>
          {providers.provided.length === 0 ? (
            <EmptyState title="This node provides nothing yet">
              Use “Provide” to announce a capability, such as capabilities/camera.
            </EmptyState>
          ) : (
            <ul className="plain" data-testid="provided-list">
              {providers.provided.map((k) => (
                <li key={k.cid}>
                  <span className="mono">{keyName(k)}</span>
                  {k.topic != null && k.key != null && (
                    <button
                      type="button"
                      className="small"
                      disabled={readOnly || stop.pending}
                      onClick={() => void stop.run({ topic: k.topic!, key: k.key! })}
                    >
                      Stop providing
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
          <ErrorNote error={stop.error} />
        </section>
        <section className="card grow" aria-label="Provider records held here">
          <h3>Provider records held here</h3>
          {providers.held.length === 0 ? (
            <EmptyState title="No provider records held">
              Peers store theirs here when this node is among the closest to a key.
            </EmptyState>
          ) : (
            <ul className="plain" data-testid="held-list">
              {providers.held.map((k) => (
                <li key={k.cid}>
                  <div className="mono">{keyName(k)}</div>
                  <ul className="plain nested">
                    {k.providers.map((p) => (
                      <li key={p.peerId}>
                        <span className="mono" title={p.peerId}>
                          {shortId(p.peerId)}
                        </span>{' '}
                        <span className="muted">expires {ago(p.expiresAt)}</span>
                      </li>
                    ))}
                  </ul>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      <div className="columns">
        <ProvideForm />
        <FindProvidersForm />
      </div>
    </div>
  )
}

function ProvideForm() {
  const readOnly = useReadOnly()
  const target = useTopicKey({ topic: 'capabilities', key: 'camera' })
  const provide = useAsyncAction(peerActions.provide)
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    const problem = target.problem()
    if (problem != null) provide.setError(problem)
    else await provide.run({ topic: target.topic, key: target.key })
  }
  return (
    <form className="card form" onSubmit={(e) => void submit(e)} aria-label="Provide">
      <h3>Provide</h3>
      {target.fields}
      <button type="submit" disabled={provide.pending || readOnly}>
        {provide.pending ? 'Announcing…' : 'Provide'}
      </button>
      <ErrorNote error={provide.error} />
      {provide.result != null && (
        <p className="ok-note" data-testid="provide-result">
          Providing, announced to {provide.result.sentTo} peer(s).
        </p>
      )}
    </form>
  )
}

function FindProvidersForm() {
  const readOnly = useReadOnly()
  const target = useTopicKey()
  const { topic, key } = target
  const [found, setFound] = useState<ProviderFound[]>([])
  const [state, setState] = useState<'idle' | 'running' | 'done' | 'cancelled'>('idle')
  const [error, setError] = useState<string | null>(null)
  const controller = useRef<AbortController | null>(null)

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    const problem = target.problem()
    if (problem != null) {
      setError(problem)
      return
    }
    controller.current?.abort()
    const abort = new AbortController()
    controller.current = abort
    setFound([])
    setError(null)
    setState('running')
    try {
      for await (const provider of peerActions.getProviders({ topic, key }, abort.signal)) {
        setFound((list) => [...list, provider])
      }
      setState(abort.signal.aborted ? 'cancelled' : 'done')
    } catch (err) {
      if (abort.signal.aborted) setState('cancelled')
      else {
        setError((err as Error).message)
        setState('done')
      }
    }
  }

  return (
    <form className="card form" onSubmit={(e) => void submit(e)} aria-label="Find providers">
      <h3>Find providers</h3>
      {target.fields}
      <div className="row-buttons">
        <button type="submit" disabled={state === 'running' || readOnly}>
          Find
        </button>
        {state === 'running' && (
          <button type="button" onClick={() => controller.current?.abort()}>
            Cancel
          </button>
        )}
      </div>
      <p className="muted" data-testid="find-status" aria-live="polite">
        {state === 'running' && <span className="spinner" aria-hidden="true" />}
        {state === 'running'
          ? `Searching… ${found.length} found`
          : state === 'done'
            ? `Done: ${found.length} provider(s)`
            : state === 'cancelled'
              ? `Cancelled after ${found.length}`
              : ''}
      </p>
      <ErrorNote error={error} />
      <ul className="plain" data-testid="providers-found">
        {found.map((p) => (
          <li key={p.peerId}>
            <span className="mono">{p.peerId}</span>
            <div className="muted small-text">{p.addresses.join(' ')}</div>
          </li>
        ))}
      </ul>
    </form>
  )
}
