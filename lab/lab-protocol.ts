/**
 * The swarm lab's one contract between the controller (lab/swarm-lab.ts) and its worker processes
 * (lab/lab-worker.ts): every command, its input and its reply. Messages travel over Node's IPC channel with the
 * "advanced" serialisation, so Uint8Array values cross as they are.
 */

/** Which DHT the peers run: ours (SwarmPeer, as the app ships it) or stock @libp2p/kad-dht with default settings. */
export type LabImpl = 'ours' | 'stock'

export interface LabPeerInfo {
  id: string
  addrs: string[]
}

/** One timed lookup, with how it travelled (from the query's own trace). */
export interface LookupSample {
  ms: number
  ok: boolean
  /** Distinct peers sent a request. */
  contacted: number
  /** Sequential rounds of requests (1 when every peer asked came from the routing table). */
  rounds: number
  error?: string
  /** Why requests of the lookup failed (distinct messages from its trace, at most 3): what a failure report needs. */
  requestErrors?: string[]
}

export interface ProvidersSample extends LookupSample {
  /** Time to the first provider that was expected; null when none was found. */
  firstMs: number | null
  found: string[]
}

export interface WorkerInit {
  impl: LabImpl
  peers: number
  /** Each peer's data directory lives under it (ours: identity and LevelDB on disk). */
  dataDir: string
  /** IPv4 address the peers listen on (TCP port 0). */
  host: string
  bootstrap: string[]
  /** Ours: how often records are republished and provider records re-announced. */
  republishIntervalMs?: number
  /** Ours: k, the bucket size and replication factor. @default 20 */
  kBucketSize?: number
}

export interface WorkerUsage {
  peers: number
  rssBytes: number
  heapUsedBytes: number
  /** CPU time used by the worker process since it started, user + system, ms. */
  cpuMs: number
  /** Open connections of the worker's peers, summed. */
  connections: number
}

export interface JoinSample {
  /** ms from the start call until the first routing-table entry. */
  firstEntryMs: number | null
  /** ms until the table held `target` of the ideal table; null if not within the time allowed. */
  targetMs: number | null
  /** ms until the table held every peer of the ideal table; null if not within the time allowed. */
  fullMs: number | null
  /** The table's fill (0..1) when the measurement ended. */
  fill: number
  id: string
}

export interface LabCommands {
  start: { in: WorkerInit; out: LabPeerInfo[] }
  /** Each peer's routing table, as peer ids. */
  tables: { in: Record<string, never>; out: string[][] }
  put: { in: { peer: number; topic: string; key: string; value: Uint8Array }; out: LookupSample }
  get: { in: { peer: number; topic: string; key: string; expect: Uint8Array | null }; out: LookupSample }
  provide: { in: { peer: number; topic: string; key: string }; out: LookupSample }
  findProviders: { in: { peer: number; topic: string; key: string; expect: string[] }; out: ProvidersSample }
  /** Ours: republish records and re-announce provider records now, on every peer of the worker. */
  republish: { in: Record<string, never>; out: null }
  /** Whether each peer of the worker holds a record under the key in its own store. */
  holders: { in: { topic: string; key: string }; out: boolean[] }
  usage: { in: Record<string, never>; out: WorkerUsage }
  /**
   * The worker's CPU time so far (ms), and nothing else: what `settle` polls, twice a window. `usage` counts every
   * peer's connections too, which in a 100-peer swarm cost the workers 2 ms each per call: nearly a fifth of the
   * tenth of a core the bench waits to get under.
   */
  cpu: { in: Record<string, never>; out: number }
  /**
   * Start one more peer here, bootstrapped from `bootstrap`, and time its routing table filling up against the
   * ideal table (`swarm`: every live peer's id). The peer stays in the swarm afterwards.
   */
  join: {
    in: { bootstrap: string[]; swarm: string[]; target: number; timeoutMs: number }
    out: JoinSample
  }
  /** Stop every peer gracefully (the worker exits after replying). */
  stop: { in: Record<string, never>; out: null }
}

export type LabOp = keyof LabCommands

export interface LabRequest<K extends LabOp = LabOp> {
  id: number
  op: K
  input: LabCommands[K]['in']
}

export type LabReply = { id: number; ok: true; output: unknown } | { id: number; ok: false; error: string }
