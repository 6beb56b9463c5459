/** Plain view objects for renderer tests. */
import type { NodeInfo, RoutingPeerView, StoredRecordView } from '../../src/shared/views.ts'

export const node: NodeInfo = {
  peerId: '12D3KooWTest',
  agent: 'swarm-inspector/0.1.0',
  protocol: '/swarm-inspector/kad/1.0.0',
  namespace: 'swarm',
  dhtMode: 'server',
  listenAddresses: ['/ip4/127.0.0.1/tcp/4101'],
  observedAddresses: [],
  connections: 0,
  routingTableSize: 0,
  records: 1,
  providerRecords: 0,
  mdns: false,
  bootstrap: [],
  transports: ['tcp'],
  startedAt: 0,
  dataDir: '/tmp/x',
  notices: [],
  privateSwarm: null
}
export const record = (topic: string, key: string, value = 'v'): StoredRecordView => ({
  topic,
  key: new TextEncoder().encode(key),
  keyDisplay: key,
  value: new TextEncoder().encode(value),
  size: value.length,
  publisher: '12D3KooWPub',
  createdAt: 1,
  receivedAt: 2,
  expiresAt: 3,
  signature: 'valid',
  mine: false
})

/** A connected routing-table peer; `over` sets any field. */
export const routingPeer = (peerId: string, over: Partial<RoutingPeerView> = {}): RoutingPeerView => ({
  peerId,
  distance: '00',
  log2Distance: 255,
  connected: true,
  addresses: ['/ip4/127.0.0.1/tcp/1'],
  agent: 'a',
  protocols: [],
  latencyMs: 3,
  addedAt: 0,
  lastSeen: 0,
  dhtMode: 'server',
  clockSkewMs: 12,
  clockReadAt: 0,
  localAddress: '127.0.0.1:4101',
  localInterface: 'lo',
  ...over
})
