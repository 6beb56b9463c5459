/**
 * Replication check: ask each of the k peers closest to a key, directly and one by one, what they hold for it —
 * which version of a record (publisher, creation time, signature state), or which providers. The answers are read
 * raw (not through our validator) so stale and invalid copies are reported, not hidden.
 * The requests go through kad-dht's own network (kad-network.ts).
 */
import { MessageType, type KadDHT, type QueryEvent } from '@libp2p/kad-dht'
import type { PeerId } from '@libp2p/interface'
import type { RecordLimits } from '../../shared/swarm-defaults.ts'
import type { ReplicaView } from '../../shared/views.ts'
import { log2Distance, xorDistanceHex } from '../../shared/kademlia.ts'
import { kadIdOfKey, kadIdOfPeer } from './kad-id.ts'
import { compareRecords, openRecord, type SignedRecord } from './record-envelope.ts'
import { kadNetwork } from './kad-network.ts'

const PATH = { index: -1, queued: 0, running: 0, total: 0 }

/** The k peers the swarm considers closest to `lookupKey` (a network lookup). */
export async function closestPeers(
  dht: KadDHT,
  lookupKey: Uint8Array,
  signal?: AbortSignal
): Promise<PeerId[]> {
  const found = new Map<string, PeerId>()
  for await (const event of dht.getClosestPeers(lookupKey, signal != null ? { signal } : {})) {
    if (event.name === 'FINAL_PEER') found.set(event.peer.id.toString(), event.peer.id)
  }
  return [...found.values()]
}

async function ask(
  dht: KadDHT,
  peer: PeerId,
  type: MessageType,
  key: Uint8Array,
  signal?: AbortSignal
): Promise<QueryEvent | Error> {
  try {
    for await (const event of kadNetwork(dht).sendRequest(
      peer,
      { type, key },
      { ...(signal != null ? { signal } : {}), path: PATH }
    )) {
      if (event.name === 'PEER_RESPONSE') return event
      if (event.name === 'QUERY_ERROR') return event.error
    }
    return new Error('no answer')
  } catch (err) {
    return err as Error
  }
}

const place = (
  peer: PeerId,
  target: Uint8Array
): Pick<ReplicaView, 'peerId' | 'distance' | 'log2Distance'> => {
  const id = kadIdOfPeer(peer)
  return {
    peerId: peer.toString(),
    distance: xorDistanceHex(id, target),
    log2Distance: log2Distance(id, target)
  }
}

/** Which version of the record each closest peer holds; `newest` is the best valid one among them. */
export async function checkRecordReplicas(
  dht: KadDHT,
  dhtKey: Uint8Array,
  limits: RecordLimits,
  signal?: AbortSignal
): Promise<{ replicas: ReplicaView[]; newest: SignedRecord | null; newestEnvelope: Uint8Array | null }> {
  const target = kadIdOfKey(dhtKey)
  const peers = await closestPeers(dht, dhtKey, signal)
  const answers = await Promise.all(
    peers.map(async (peer) => {
      const answer = await ask(dht, peer, MessageType.GET_VALUE, dhtKey, signal)
      if (answer instanceof Error) return { peer, error: answer.message }
      if (answer.name !== 'PEER_RESPONSE' || answer.record == null) return { peer }
      try {
        return {
          peer,
          record: await openRecord(dhtKey, answer.record.value, { limits }),
          envelope: answer.record.value
        }
      } catch (err) {
        return { peer, invalid: (err as Error).message }
      }
    })
  )
  let newest: SignedRecord | null = null
  let newestEnvelope: Uint8Array | null = null
  for (const a of answers) {
    if ('record' in a && a.record != null && (newest == null || compareRecords(a.record, newest) > 0)) {
      newest = a.record
      newestEnvelope = a.envelope ?? null
    }
  }
  const replicas = answers.map((a): ReplicaView => {
    const where = place(a.peer, target)
    if ('error' in a && a.error != null) return { ...where, status: 'unreachable', detail: a.error }
    if ('invalid' in a && a.invalid != null) return { ...where, status: 'invalid', detail: a.invalid }
    if (!('record' in a) || a.record == null) return { ...where, status: 'missing' }
    const version = {
      publisher: a.record.publisher,
      createdAt: a.record.createdAt,
      signature: 'valid' as const
    }
    return {
      ...where,
      ...version,
      status: newest != null && compareRecords(newest, a.record) > 0 ? 'stale' : 'holder'
    }
  })
  return { replicas, newest, newestEnvelope }
}

/** Which of the closest peers hold provider records for the key, and for whom. */
export async function checkProviderReplicas(
  dht: KadDHT,
  multihash: Uint8Array,
  signal?: AbortSignal
): Promise<ReplicaView[]> {
  const target = kadIdOfKey(multihash)
  const peers = await closestPeers(dht, multihash, signal)
  return Promise.all(
    peers.map(async (peer): Promise<ReplicaView> => {
      const where = place(peer, target)
      const answer = await ask(dht, peer, MessageType.GET_PROVIDERS, multihash, signal)
      if (answer instanceof Error) return { ...where, status: 'unreachable', detail: answer.message }
      const providers = answer.name === 'PEER_RESPONSE' ? answer.providers.map((p) => p.id.toString()) : []
      return { ...where, status: providers.length > 0 ? 'holder' : 'missing', providers }
    })
  )
}
