/**
 * What the lab needs from a peer, whichever DHT it runs: timed operations that report how they travelled, and its
 * routing table. The two implementations (ours-peer.ts, stock-peer.ts) measure through the same trace code.
 */
import type { QueryStep } from '../src/shared/views.ts'
import { traceRounds } from '../src/shared/trace-rounds.ts'
import type { LookupSample, ProvidersSample } from './lab-protocol.ts'

/**
 * Every lab operation gives up after this long (and counts as failed): one lookup that never ends must not stall a
 * whole benchmark (seen: a stock swarm of 100 sat idle on one).
 */
export const OP_TIMEOUT_MS = 30_000

export const opSignal = (): AbortSignal => AbortSignal.timeout(OP_TIMEOUT_MS)

export interface LabPeer {
  readonly id: string
  addrs(): string[]
  /** Peer ids in the routing table the peer's lookups start from. */
  table(): string[]
  /** Open connections (to other peers of the swarm, and to anyone else). */
  connections(): number
  put(topic: string, key: string, value: Uint8Array): Promise<LookupSample>
  get(topic: string, key: string, expect: Uint8Array | null): Promise<LookupSample>
  provide(topic: string, key: string): Promise<LookupSample>
  findProviders(topic: string, key: string, expect: string[]): Promise<ProvidersSample>
  republish(): Promise<void>
  /** Whether this peer's own store holds a record under the key (any version): where a record lives, for tests. */
  holds(topic: string, key: string): Promise<boolean>
  stop(): Promise<void>
}

/**
 * Peers contacted and rounds, from a query's trace steps (the same reading the UI's trace picture makes), and why its
 * failed requests failed.
 */
export function travelled(steps: QueryStep[]): Pick<LookupSample, 'contacted' | 'rounds' | 'requestErrors'> {
  const { peers, rounds } = traceRounds(steps)
  const errors = [...new Set(steps.flatMap((s) => (s.kind === 'error' && s.error != null ? [s.error] : [])))]
  return {
    contacted: peers.length,
    rounds,
    ...(errors.length > 0 ? { requestErrors: errors.slice(0, 3) } : {})
  }
}

export const failed = (started: number, err: unknown): LookupSample => ({
  ms: performance.now() - started,
  ok: false,
  contacted: 0,
  rounds: 0,
  error: (err as Error).message
})
