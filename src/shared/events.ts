import type { QueryStep, QueryTrace } from './views.ts'

/** The peer's live event stream: everything the inspector animates. */
export type PeerEvent =
  | { type: 'node:started'; peerId: string; at: number }
  | { type: 'routing:add'; peerId: string; cpl: number; at: number }
  | { type: 'routing:remove'; peerId: string; at: number }
  | {
      type: 'connection:open'
      peerId: string
      remoteAddr: string
      direction: 'inbound' | 'outbound'
      at: number
    }
  | { type: 'connection:close'; peerId: string; remoteAddr: string; at: number }
  | { type: 'peer:discovered'; peerId: string; addresses: string[]; at: number }
  /** A neighbour's clock was read (the routing table shows the skew and round trip). */
  | { type: 'clock:read'; peerId: string; skewMs: number; rttMs: number; at: number }
  | {
      type: 'record:stored'
      topic: string
      key: Uint8Array
      publisher: string
      createdAt: number
      at: number
    }
  | { type: 'provider:stored'; cid: string; provider: string; at: number }
  | { type: 'query:start'; query: Omit<QueryTrace, 'steps'>; at: number }
  | { type: 'query:step'; queryId: string; step: QueryStep; at: number }
  | { type: 'query:end'; query: Omit<QueryTrace, 'steps'>; at: number }

export type PeerEventType = PeerEvent['type']
