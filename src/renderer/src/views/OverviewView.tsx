/** The node in detail, and joining the swarm: bootstrap addresses, dialing, mDNS, and peers discovered live. */
import { useState, type FormEvent } from 'react'
import {
  CopyButton,
  duration,
  EmptyState,
  ErrorNote,
  shortId,
  useAsyncAction,
  useReadOnly
} from '../components/common.tsx'
import { peerActions } from '../store/peer-actions.ts'
import { BridgePanel } from '../components/BridgePanel.tsx'
import { ProfilesPanel } from '../components/ProfilesPanel.tsx'
import { useInspector } from '../store/index.ts'

export function OverviewView() {
  return (
    <>
      <div className="columns">
        <NodeDetails />
        <JoinPanel />
      </div>
      <div className="columns">
        <ProfilesPanel />
        <BridgePanel />
      </div>
    </>
  )
}

function NodeDetails() {
  const node = useInspector((s) => s.node)
  if (node == null) return <EmptyState title="Waiting for the peer…" />
  return (
    <section className="card grow" aria-label="This node">
      <h3>This node</h3>
      <dl className="facts">
        <dt>Peer id</dt>
        <dd>
          <span className="mono" data-testid="overview-peer-id">
            {node.peerId}
          </span>{' '}
          <CopyButton text={node.peerId} />
        </dd>
        <dt>Agent</dt>
        <dd>{node.agent}</dd>
        <dt>DHT</dt>
        <dd>
          {node.dhtMode} mode · {node.protocol} · namespace {node.namespace}
        </dd>
        <dt>Transports</dt>
        <dd>{node.transports.join(', ')}</dd>
        <dt>Listening on</dt>
        <dd>
          <ul className="plain mono small-text" data-testid="listen-addresses">
            {node.listenAddresses.map((a) => (
              <li key={a}>
                {a} <CopyButton text={a} />
              </li>
            ))}
          </ul>
        </dd>
        <dt>Observed as</dt>
        <dd className="mono small-text">
          {node.observedAddresses.length > 0 ? node.observedAddresses.join(' ') : '—'}
        </dd>
        <dt>Connections</dt>
        <dd>{node.connections}</dd>
        <dt>Routing table</dt>
        <dd>{node.routingTableSize} peer(s)</dd>
        <dt>Stored here</dt>
        <dd data-testid="stored-counts">
          {node.records} record(s), {node.providerRecords} provider record(s)
        </dd>
        <dt>Uptime</dt>
        <dd>{duration(Math.round((Date.now() - node.startedAt) / 1000))}</dd>
        <dt>mDNS</dt>
        <dd>{node.mdns ? 'on' : 'off'}</dd>
      </dl>
    </section>
  )
}

function JoinPanel() {
  const readOnly = useReadOnly()
  const settings = useInspector((s) => s.settings)
  const discovered = useInspector((s) => s.discovered)
  const [bootstrap, setBootstrap] = useState('')
  const [dialAddr, setDialAddr] = useState('')
  const addBootstrap = useAsyncAction(peerActions.updateSettings)
  const dial = useAsyncAction(peerActions.dial)
  const toggleMdns = useAsyncAction(peerActions.updateSettings)

  const onAdd = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    if (settings == null || bootstrap.trim() === '') return
    const r = await addBootstrap.run({ bootstrap: [...new Set([...settings.bootstrap, bootstrap.trim()])] })
    if (r != null) setBootstrap('')
  }
  const onDial = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    if (dialAddr.trim() !== '') await dial.run({ multiaddr: dialAddr.trim() })
  }

  return (
    <section className="card grow" aria-label="Join the swarm">
      <h3>Join the swarm</h3>
      <form onSubmit={(e) => void onDial(e)} className="inline-form" aria-label="Dial a peer">
        <input
          name="multiaddr"
          value={dialAddr}
          onChange={(e) => setDialAddr(e.target.value)}
          placeholder="/ip4/192.168.1.20/tcp/4101/p2p/12D3KooW…"
          aria-label="Multiaddr to dial"
        />
        <button type="submit" disabled={dial.pending || readOnly}>
          {dial.pending ? 'Dialing…' : 'Dial'}
        </button>
      </form>
      <ErrorNote error={dial.error} />
      {dial.result != null && (
        <p className="ok-note" data-testid="dial-result">
          Connected to {shortId(dial.result.peerId)} via {dial.result.remoteAddr}
        </p>
      )}

      <form onSubmit={(e) => void onAdd(e)} className="inline-form" aria-label="Add a bootstrap address">
        <input
          name="bootstrap"
          value={bootstrap}
          onChange={(e) => setBootstrap(e.target.value)}
          placeholder="bootstrap multiaddr with /p2p/…"
          aria-label="Bootstrap multiaddr"
        />
        <button type="submit" disabled={addBootstrap.pending || readOnly || settings == null}>
          {addBootstrap.pending ? 'Restarting…' : 'Add bootstrap'}
        </button>
      </form>
      <ErrorNote error={addBootstrap.error} />
      {settings != null && settings.bootstrap.length > 0 && (
        <ul className="plain mono small-text" data-testid="bootstrap-list">
          {settings.bootstrap.map((b) => (
            <li key={b}>{b}</li>
          ))}
        </ul>
      )}
      <label className="check">
        <input
          type="checkbox"
          checked={settings?.mdns ?? false}
          disabled={readOnly || settings == null || toggleMdns.pending}
          onChange={(e) => void toggleMdns.run({ mdns: e.target.checked })}
        />{' '}
        Find peers on the local network (mDNS)
      </label>
      <ErrorNote error={toggleMdns.error} />
      <p className="muted small-text">
        Changing the bootstrap list or mDNS restarts the peer; identity and data stay.
      </p>

      <h4>Discovered peers</h4>
      {discovered.length === 0 ? (
        <p className="muted">
          None yet. Peers found by mDNS or through bootstrap appear here as they are found.
        </p>
      ) : (
        <ul className="plain" data-testid="discovered">
          {discovered.map((p) => (
            <li key={p.peerId}>
              <span className="mono">{shortId(p.peerId)}</span>{' '}
              <span className="muted small-text">{p.addresses.join(' ')}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
