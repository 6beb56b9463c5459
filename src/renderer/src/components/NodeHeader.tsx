import { useInspector } from '../store/index.ts'
import type { Transport } from '../api-client.ts'

/** The node at a glance: who we are, how we are connected, and how full the routing table is. */
export function NodeHeader({ transport }: { transport: Transport }) {
  const peerId = useInspector((s) => s.node?.peerId)
  const connections = useInspector((s) => s.node?.connections ?? 0)
  const routingSize = useInspector((s) => s.routingSize)
  const link = useInspector((s) => s.link)
  const linkError = useInspector((s) => s.linkError)
  const viewingSnapshot = useInspector((s) => s.snapshot != null)
  const notices = useInspector((s) => s.node?.notices)
  const privateSwarm = useInspector((s) => s.node?.privateSwarm)
  return (
    <header className="node-header">
      <h1>Swarm Inspector</h1>
      <dl>
        <div>
          <dt>Peer id</dt>
          <dd className="mono" data-testid="own-peer-id">
            {peerId ?? '…'}
          </dd>
        </div>
        <div>
          <dt>Swarm</dt>
          <dd data-testid="swarm-kind">{privateSwarm != null ? `private · key ${privateSwarm}` : 'open'}</dd>
        </div>
        <div>
          <dt>Routing table</dt>
          <dd data-testid="routing-table-size">{routingSize}</dd>
        </div>
        <div>
          <dt>Connections</dt>
          <dd data-testid="connection-count">{connections}</dd>
        </div>
        <div>
          <dt>Link</dt>
          <dd
            data-testid="link-status"
            className={`link link-${viewingSnapshot ? 'connecting' : link}`}
            title={linkError ?? undefined}
          >
            {viewingSnapshot ? 'snapshot (paused)' : link} ·{' '}
            {transport === 'ipc' ? 'desktop (IPC)' : 'browser (HTTP)'}
          </dd>
        </div>
      </dl>
      {notices != null && notices.length > 0 && (
        <ul className="notices" role="status" data-testid="notices">
          {notices.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
    </header>
  )
}
