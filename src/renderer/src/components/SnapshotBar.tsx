/** Export the current state as a JSON file; open one read-only in the same views; return to the live peer. */
import { useRef, useState } from 'react'
import { ErrorNote } from './common.tsx'
import { peerActions } from '../store/peer-actions.ts'
import { useInspector } from '../store/index.ts'
import { openSnapshot, parseSnapshot, serializeSnapshot, takeSnapshot } from '../store/snapshot.ts'

export function SnapshotBar() {
  const snapshot = useInspector((s) => s.snapshot)
  const file = useRef<HTMLInputElement>(null)
  const [error, setError] = useState<string | null>(null)

  const exportNow = (): void => {
    try {
      const taken = takeSnapshot(useInspector)
      const blob = new Blob([serializeSnapshot(taken)], { type: 'application/json' })
      const url = URL.createObjectURL(blob)
      const a = document.createElement('a')
      a.href = url
      a.download = `swarm-snapshot-${taken.node.peerId.slice(-8)}-${new Date(taken.takenAt).toISOString().replace(/[:.]/g, '-')}.json`
      a.click()
      setTimeout(() => URL.revokeObjectURL(url), 1000)
      setError(null)
    } catch (err) {
      setError((err as Error).message)
    }
  }
  const open = async (f: File): Promise<void> => {
    try {
      openSnapshot(useInspector, parseSnapshot(await f.text()), f.name)
      setError(null)
    } catch (err) {
      setError((err as Error).message)
    }
  }

  return (
    <div className={`snapshot-bar ${snapshot != null ? 'viewing' : ''}`}>
      {snapshot != null ? (
        <span data-testid="snapshot-banner">
          Viewing snapshot <strong>{snapshot.name}</strong>, taken{' '}
          {new Date(snapshot.takenAt).toLocaleString()} — read-only.
        </span>
      ) : (
        <span className="muted">Live</span>
      )}
      <span className="spacer" />
      {snapshot != null ? (
        <button
          type="button"
          onClick={() => void peerActions.leaveSnapshot().catch((e: Error) => setError(e.message))}
        >
          Back to live
        </button>
      ) : (
        <button type="button" onClick={exportNow}>
          Export snapshot
        </button>
      )}
      <button type="button" onClick={() => file.current?.click()}>
        Open snapshot…
      </button>
      <input
        ref={file}
        type="file"
        accept="application/json,.json"
        hidden
        data-testid="snapshot-file"
        onChange={(e) => {
          const f = e.target.files?.[0]
          if (f != null) void open(f)
          e.target.value = ''
        }}
      />
      <ErrorNote error={error} />
    </div>
  )
}
