/** Small pieces every view uses: async form state, inline errors, empty states, copy buttons, times. */
import { useCallback, useState, type ReactNode } from 'react'
import { useInspector } from '../store/index.ts'

export function useAsyncAction<A extends unknown[], R>(action: (...args: A) => Promise<R>) {
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [result, setResult] = useState<R | null>(null)
  const run = useCallback(
    async (...args: A): Promise<R | null> => {
      setPending(true)
      setError(null)
      try {
        const value = await action(...args)
        setResult(value)
        return value
      } catch (err) {
        setError((err as Error).message)
        setResult(null)
        return null
      } finally {
        setPending(false)
      }
    },
    [action]
  )
  return { run, pending, error, result, setError }
}

export function ErrorNote({ error }: { error: string | null }) {
  if (error == null) return null
  return (
    <p className="error-note" role="alert">
      {error}
    </p>
  )
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty-state">
      <strong>{title}</strong>
      {children != null && <p>{children}</p>}
    </div>
  )
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false)
  return (
    <button
      type="button"
      className="small"
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => {
          setDone(true)
          setTimeout(() => setDone(false), 1200)
        })
      }}
    >
      {done ? 'Copied' : label}
    </button>
  )
}

export function shortId(peerId: string): string {
  return peerId.length > 16 ? `${peerId.slice(0, 8)}…${peerId.slice(-6)}` : peerId
}

export function ago(at: number | null, now = Date.now()): string {
  if (at == null) return '—'
  const s = Math.round((now - at) / 1000)
  if (s < 0) return `in ${duration(-s)}`
  return `${duration(s)} ago`
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`
  return `${Math.floor(seconds / 86_400)}d ${Math.floor((seconds % 86_400) / 3600)}h`
}

/** True while a snapshot is open: forms are disabled. */
export const useReadOnly = (): boolean => useInspector((s) => s.snapshot != null)
