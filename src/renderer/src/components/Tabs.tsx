/** The view switcher: a real tablist, so arrow keys, Home and End move between views. */
import { useRef, type KeyboardEvent } from 'react'
import { useInspector } from '../store/index.ts'
import { TABS, type Tab } from '../store/slices/view.ts'

const LABELS: Record<Tab, string> = {
  overview: 'Overview',
  routing: 'Routing table',
  records: 'Records',
  providers: 'Providers',
  lookups: 'Lookups'
}

export function Tabs() {
  const tab = useInspector((s) => s.tab)
  const setTab = useInspector((s) => s.setTab)
  const refs = useRef<Array<HTMLButtonElement | null>>([])
  const onKey = (e: KeyboardEvent): void => {
    const i = TABS.indexOf(tab)
    const next =
      e.key === 'ArrowRight'
        ? (i + 1) % TABS.length
        : e.key === 'ArrowLeft'
          ? (i - 1 + TABS.length) % TABS.length
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? TABS.length - 1
              : -1
    if (next < 0) return
    e.preventDefault()
    setTab(TABS[next]!)
    refs.current[next]?.focus()
  }
  return (
    <nav className="tabs" role="tablist" aria-label="Views" onKeyDown={onKey}>
      {TABS.map((t, i) => (
        <button
          key={t}
          ref={(el) => {
            refs.current[i] = el
          }}
          type="button"
          role="tab"
          id={`tab-${t}`}
          aria-selected={t === tab}
          aria-controls={`panel-${t}`}
          tabIndex={t === tab ? 0 : -1}
          className={t === tab ? 'active' : ''}
          onClick={() => setTab(t)}
        >
          {LABELS[t]}
        </button>
      ))}
    </nav>
  )
}
