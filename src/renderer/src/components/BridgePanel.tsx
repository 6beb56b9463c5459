/** The hyveOS SDK bridge: whether it is on, where it listens, how many SDK clients are connected; a switch per listener. */
import { useEffect } from 'react'
import { ErrorNote, useAsyncAction, useReadOnly } from './common.tsx'
import { peerActions } from '../store/peer-actions.ts'
import { useInspector } from '../store/index.ts'
import { pageVisibility } from '../store/page-visibility.ts'

export function BridgePanel() {
  const bridge = useInspector((s) => s.bridge)
  const settings = useInspector((s) => s.settings?.bridge)
  const readOnly = useReadOnly()
  const update = useAsyncAction(peerActions.updateSettings)
  // Client counts change without events: look again every few seconds while the page is visible.
  useEffect(() => {
    if (readOnly) return
    const timer = setInterval(() => {
      if (!pageVisibility.hidden()) void peerActions.refreshBridge().catch(() => {})
    }, 3_000)
    return () => clearInterval(timer)
  }, [readOnly])
  if (bridge == null || settings == null) return null
  const on = bridge.socketPath != null || bridge.tcp != null || bridge.web != null
  return (
    <section className="card grow" aria-label="SDK bridge">
      <h3>
        SDK bridge{' '}
        <span className={on ? 'good' : 'muted'} data-testid="bridge-state">
          {on ? 'on' : 'off'}
        </span>
      </h3>
      <dl className="facts">
        <dt>Unix socket</dt>
        <dd className="mono" data-testid="bridge-socket">
          {bridge.socketPath ?? 'off'}
        </dd>
        <dt>Loopback TCP</dt>
        <dd className="mono">{bridge.tcp ?? 'off'}</dd>
        <dt>gRPC-web, Connect</dt>
        <dd className="mono">{bridge.web ?? 'off'}</dd>
        <dt>SDK clients</dt>
        <dd data-testid="bridge-clients">
          {bridge.clients} connected · {bridge.calls} call(s) served
        </dd>
      </dl>
      {bridge.problems.map((p) => (
        <p key={p} className="error-note">
          {p}
        </p>
      ))}
      <div className="row-buttons">
        <label className="check">
          <input
            type="checkbox"
            checked={settings.socket}
            disabled={readOnly || update.pending}
            onChange={(e) => void update.run({ bridge: { socket: e.target.checked } })}
          />{' '}
          Unix socket
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={settings.tcp.enabled}
            disabled={readOnly || update.pending}
            onChange={(e) => void update.run({ bridge: { tcp: { enabled: e.target.checked } } })}
          />{' '}
          TCP {settings.tcp.host}:{settings.tcp.port}
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={settings.web}
            disabled={readOnly || update.pending}
            onChange={(e) => void update.run({ bridge: { web: e.target.checked } })}
          />{' '}
          gRPC-web
        </label>
      </div>
      <ErrorNote error={update.error} />
      <p className="muted small-text">
        Scripts written for the hyveOS SDKs connect here: started with{' '}
        <span className="mono">swarm-inspector run -- …</span> they find the socket in HYVEOS_BRIDGE_SOCKET.
      </p>
    </section>
  )
}
