/** Swarm profiles: which swarm this node is in, saved sets to switch between, each with its own identity and data. */
import { useEffect, useState, type FormEvent } from 'react'
import type { ProfilesView } from '../../../shared/views.ts'
import { ErrorNote, useAsyncAction, useReadOnly } from './common.tsx'
import { peerActions } from '../store/peer-actions.ts'

export function ProfilesPanel() {
  const readOnly = useReadOnly()
  const [view, setView] = useState<ProfilesView | null>(null)
  const [name, setName] = useState('')
  const act = useAsyncAction(async (action: () => Promise<ProfilesView>) => setView(await action()))
  useEffect(() => {
    if (!readOnly) void act.run(peerActions.profiles)
  }, [readOnly])
  const save = (e: FormEvent): void => {
    e.preventDefault()
    void act.run(() => peerActions.saveProfile({ name: name.trim() })).then(() => setName(''))
  }
  if (view == null) return null
  return (
    <section className="card grow" aria-label="Swarm profiles">
      <h3>Swarm profiles</h3>
      <ul className="plain" data-testid="profiles">
        {view.profiles.map((p) => (
          <li key={p.name}>
            <strong>{p.name}</strong> {p.name === view.active && <span className="tag">active</span>}{' '}
            <span className="muted small-text">
              {p.namespace} · {p.protocol} · {p.privateSwarm ? 'private' : 'open'} · {p.bootstrap.length}{' '}
              bootstrap
            </span>{' '}
            {p.name !== view.active && (
              <>
                <button
                  type="button"
                  className="small"
                  disabled={readOnly || act.pending}
                  onClick={() => void act.run(() => peerActions.switchProfile({ name: p.name }))}
                >
                  Switch
                </button>{' '}
                {p.name !== 'default' && (
                  <button
                    type="button"
                    className="small"
                    disabled={readOnly || act.pending}
                    onClick={() => void act.run(() => peerActions.deleteProfile({ name: p.name }))}
                  >
                    Delete
                  </button>
                )}
              </>
            )}
          </li>
        ))}
      </ul>
      <form className="inline-form" onSubmit={save} aria-label="Save the current swarm as a profile">
        <input
          name="profile"
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="profile name"
          aria-label="Profile name"
        />
        <button type="submit" disabled={readOnly || act.pending || name.trim() === ''}>
          Save current swarm
        </button>
      </form>
      <ErrorNote error={act.error} />
      <p className="muted small-text">
        Switching restarts the peer in the profile's own data directory: its own identity, records and peers.
      </p>
    </section>
  )
}
