/** The shapes the peer reports: results of calls and inspection views. Times are Unix epoch milliseconds. */

export type SignatureState = 'valid' | 'invalid'

export interface PutRecordResult {
  /**
   * Peers (besides this one) that had stored the record and echoed it back when the call returned. A one-round put
   * returns at a quorum of 3 while the other sends go on; the query's trace has the final count.
   */
  accepted: number
  /** Closest peers the record was sent to. */
  sentTo: number
  queryId: string
}

export interface FoundRecord {
  value: Uint8Array
  /** The peer whose copy won (this node's id when the local copy was the newest). */
  from: string
  publisher: string
  createdAt: number
}

export interface GetRecordResult {
  record: FoundRecord | null
  queryId: string
}

export interface ProvideResult {
  /** The provider key on the wire: CIDv1 (raw) of sha2-256 over the record key. */
  cid: string
  /** Peers that were sent the provider record. */
  sentTo: number
  queryId: string
}

export interface ProviderFound {
  peerId: string
  addresses: string[]
  /** The peer that told us (this node's id for the local provider store). */
  from: string
}

export interface DialResult {
  peerId: string
  remoteAddr: string
}

export interface NodeInfo {
  peerId: string
  agent: string
  protocol: string
  namespace: string
  dhtMode: 'client' | 'server'
  listenAddresses: string[]
  observedAddresses: string[]
  connections: number
  routingTableSize: number
  records: number
  providerRecords: number
  mdns: boolean
  bootstrap: string[]
  transports: string[]
  startedAt: number
  dataDir: string
  /** Things the user should know about how the node started (a taken port moved, QUIC unavailable, …). */
  notices: string[]
  /** Fingerprint of the swarm key when this is a private swarm (pnet); null for an open swarm. */
  privateSwarm: string | null
}

export interface RoutingPeerView {
  peerId: string
  /** Full-width XOR distance between kad ids, hex. */
  distance: string
  /** log2 of the distance (0..256), for pictures. */
  log2Distance: number
  connected: boolean
  addresses: string[]
  agent: string | null
  protocols: string[]
  latencyMs: number | null
  addedAt: number | null
  lastSeen: number | null
  /** server: it answers DHT queries (speaks our DHT protocol); client: it does not; null: not known yet. */
  dhtMode: 'server' | 'client' | null
  /** Its clock minus ours, ms (null until measured; needs the peer to run swarm-inspector). */
  clockSkewMs: number | null
  /** When that reading was taken (ms since the epoch, our clock), null without one. */
  clockReadAt: number | null
  /** Our side of the connection to it: address and network interface (TCP connections; null otherwise). */
  localAddress: string | null
  localInterface: string | null
}

export interface BucketView {
  /** Common prefix length between the peers' kad ids and ours. */
  cpl: number
  peers: RoutingPeerView[]
}

export interface BucketsView {
  ownKadId: string
  /** Largest number of peers a bucket holds. */
  k: number
  size: number
  /** Non-empty buckets, ordered by cpl. */
  buckets: BucketView[]
}

export interface StoredRecordView {
  topic: string
  key: Uint8Array
  /** The key as people read it (text when printable UTF-8, else 0x-hex). */
  keyDisplay: string
  value: Uint8Array
  size: number
  publisher: string
  createdAt: number
  receivedAt: number | null
  expiresAt: number
  signature: SignatureState
  /** Put by this node (and republished by it while it runs). */
  mine: boolean
}

export interface ProviderEntryView {
  peerId: string
  /** When the provider record was stored or refreshed here. */
  storedAt: number
  expiresAt: number
}

export interface ProviderKeyView {
  cid: string
  /** Known when this node has seen the topic/key for that CID (provided or looked it up). */
  topic: string | null
  key: Uint8Array | null
  keyDisplay: string | null
}

export interface ProviderRecordsView {
  /** Keys this node provides (and reprovides while it runs). */
  provided: ProviderKeyView[]
  /** Provider records held in this node's store: key -> provider peers. */
  held: Array<ProviderKeyView & { providers: ProviderEntryView[] }>
}

export interface ConnectionInfo {
  id: string
  peerId: string
  remoteAddr: string
  direction: 'inbound' | 'outbound'
  openedAt: number
  transient: boolean
}

export type QueryKind = 'put' | 'get' | 'provide' | 'find-providers' | 'closest-peers'

export interface QueryStep {
  /** Milliseconds since the query started. */
  at: number
  peerId: string
  /** Full-width XOR distance from this peer's kad id to the target's, hex. */
  distance: string
  log2Distance: number
  /** send: request sent; response: answered (closer peers / record / providers); error: failed. */
  kind: 'send' | 'response' | 'error'
  /** The disjoint path the step belongs to (-1 for local work, and requests outside kad-dht's paths). */
  path: number
  /** For send: the lookup's own round number, when it knows it (one-round lookups); else traces infer it. */
  round?: number
  message?: string
  closerPeers?: number
  /** Ids of the closer peers this response named (at most 20): how the lookup learned of the next peers. */
  closerPeerIds?: string[]
  providers?: number
  hasRecord?: boolean
  error?: string
  /** For response/error: time since the matching send, ms. */
  rttMs?: number
}

export interface QueryTrace {
  id: string
  kind: QueryKind
  topic: string | null
  key: Uint8Array | null
  /** The target's kad id, hex. */
  target: string
  startedAt: number
  durationMs: number | null
  status: 'running' | 'ok' | 'not-found' | 'failed' | 'aborted'
  /** Distinct remote peers a request was sent to. */
  peersAsked: number
  result: string | null
  steps: QueryStep[]
}

export interface BridgeStatus {
  /** Native gRPC on a Unix socket: its path, or null when off. */
  socketPath: string | null
  /** Native gRPC on loopback TCP: host:port, or null when off. */
  tcp: string | null
  /** gRPC-web and Connect: the API URL they are served at, or null when off. */
  web: string | null
  /** SDK clients connected now (HTTP/2 sessions, and streams open over HTTP). */
  clients: number
  /** Calls served since start. */
  calls: number
  /** Why a listener is not running, if one failed to start. */
  problems: string[]
}

export interface ReplicaView {
  peerId: string
  /** XOR distance from the peer to the key, hex and log2. */
  distance: string
  log2Distance: number
  /** holder: has the newest version (or, for providers, provider records); missing: has none; stale: an older
   *  version; invalid: a copy that fails the checks; unreachable: did not answer. */
  status: 'holder' | 'missing' | 'stale' | 'invalid' | 'unreachable'
  publisher?: string
  createdAt?: number
  signature?: SignatureState
  /** For providers: the provider peers this peer holds records for. */
  providers?: string[]
  /** Why a copy is invalid, or why the peer did not answer. */
  detail?: string
}

export interface ReplicationReport {
  kind: 'record' | 'providers'
  topic: string
  keyDisplay: string
  /** The newest valid version found among the closest peers (records). */
  newest: { publisher: string; createdAt: number } | null
  replicas: ReplicaView[]
}

/** One peer's view of a lookup, for comparing two vantage points. */
export interface VantageView {
  /** Which peer looked: its id and API URL ('this node' for the local one). */
  peerId: string
  api: string
  record: FoundRecord | null
  /** The lookup's trace on that peer (null when it could not be fetched). */
  trace: QueryTrace | null
  error: string | null
}

export interface VantageComparison {
  topic: string
  keyDisplay: string
  here: VantageView
  there: VantageView
}

export interface ProfilesView {
  active: string
  profiles: Array<{
    name: string
    protocol: string
    namespace: string
    bootstrap: string[]
    /** Whether the profile has a swarm key (the key itself is never shown). */
    privateSwarm: boolean
    dataDir: string
  }>
}
