/**
 * Whether the window is shown. While it is hidden or minimised the renderer stops what only a viewer needs — view
 * refreshes, polling, animations — and catches up when it is shown again; the peer keeps serving regardless.
 */
export interface Visibility {
  hidden(): boolean
  /** Calls back on every change; returns an unsubscribe. */
  onChange(listener: (hidden: boolean) => void): () => void
}

export const pageVisibility: Visibility = {
  hidden: () => typeof document !== 'undefined' && document.visibilityState === 'hidden',
  onChange: (listener) => {
    if (typeof document === 'undefined') return () => {}
    const handler = (): void => listener(document.visibilityState === 'hidden')
    document.addEventListener('visibilitychange', handler)
    return () => document.removeEventListener('visibilitychange', handler)
  }
}

/** Reflects visibility on the root element, so CSS can pause animations. */
export function markHiddenOnRoot(visibility: Visibility = pageVisibility): () => void {
  const apply = (hidden: boolean): void =>
    void document.documentElement.classList.toggle('page-hidden', hidden)
  apply(visibility.hidden())
  return visibility.onChange(apply)
}
