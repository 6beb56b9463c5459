/**
 * The rounds of an iterative lookup, reconstructed from its trace: peers asked first (from our own routing table)
 * are round 1; a peer first named in a round-r peer's answer is round r+1. Pure, shared by the trace picture and its
 * tests.
 */
import type { QueryStep } from './views.ts'

export interface TracePeer {
  peerId: string
  round: number
  log2Distance: number
  distance: string
  /** The peer whose answer named this one (null for round 1). */
  referrer: string | null
  outcome: 'answered' | 'error' | 'pending'
  rttMs: number | null
  sentAt: number
}

export function traceRounds(steps: QueryStep[]): { peers: TracePeer[]; rounds: number } {
  const peers = new Map<string, TracePeer>()
  const namedBy = new Map<string, string>()
  for (const step of steps) {
    if (step.kind === 'send' && !peers.has(step.peerId)) {
      const referrer = namedBy.get(step.peerId) ?? null
      const round = step.round ?? (referrer != null ? (peers.get(referrer)?.round ?? 0) + 1 : 1)
      peers.set(step.peerId, {
        peerId: step.peerId,
        round,
        log2Distance: step.log2Distance,
        distance: step.distance,
        referrer,
        outcome: 'pending',
        rttMs: null,
        sentAt: step.at
      })
    } else if (step.kind === 'response' || step.kind === 'error') {
      const peer = peers.get(step.peerId)
      if (peer != null && peer.outcome === 'pending') {
        peer.outcome = step.kind === 'response' ? 'answered' : 'error'
        peer.rttMs = step.rttMs ?? null
      }
      for (const named of step.closerPeerIds ?? []) if (!namedBy.has(named)) namedBy.set(named, step.peerId)
    }
  }
  const list = [...peers.values()]
  return { peers: list, rounds: list.reduce((max, p) => Math.max(max, p.round), 0) }
}
