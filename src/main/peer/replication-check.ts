/**
 * Replication check: ask each of the k peers closest to a key, directly and one by one, what they hold for it —
 * which version of a record (publisher, creation time, signature state), or which providers. The answers are read
 * raw (not through our validator) so stale and invalid copies are reported, not hidden.
 * The requests go through kad-dht's own network (kad-network.ts).
 */
import { MessageType, type QueryEvent } from '@libp2p/kad-dht'
import type { PeerId } from '@libp2p/interface'
import type { RecordLimits } from '../../shared/swarm-defaults.ts'
import type { ReplicaView } from '../../shared/views.ts'
import { log2Distance, xorDistanceHex } from '../../shared/kademlia.ts'
import { kadIdOfKey, kadIdOfPeer } from './kad-id.ts'
import { compareRecords, openRecord, type SignedRecord } from './record-envelope.ts'
import { kadNetwork, OUTSIDE_PATHS } from './kad-network.ts'
import { walkToClosest, type WalkInit } from './closest-walk.ts'

/** The k peers the swarm considers closest to `lookupKey` (a network lookup, closest-walk.ts). */
export async function closestPeers(lookupKey: Uint8Array, walk: WalkInit): Promise<PeerId[]> {
  const steps = walkToClosest(lookupKey, walk)
  for (;;) {
    const step = await steps.next()
    if (step.done === true) return step.value
  }
}

async function ask(
  { dht, signal }: WalkInit,
  peer: PeerId,
  type: MessageType,
  key: Uint8Array
): Promise<QueryEvent | Error> {
  try {
    for await (const event of kadNetwork(dht).sendRequest(
      peer,
      { type, key },
      { signal, path: OUTSIDE_PATHS }
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
  walk: WalkInit,
  dhtKey: Uint8Array,
  limits: RecordLimits
): Promise<{ replicas: ReplicaView[]; newest: SignedRecord | null; newestEnvelope: Uint8Array | null }> {
  const target = kadIdOfKey(dhtKey)
  const peers = await closestPeers(dhtKey, walk)
  const answers = await Promise.all(
    peers.map(async (peer) => {
      const answer = await ask(walk, peer, MessageType.GET_VALUE, dhtKey)
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
export async function checkProviderReplicas(walk: WalkInit, multihash: Uint8Array): Promise<ReplicaView[]> {
  const target = kadIdOfKey(multihash)
  const peers = await closestPeers(multihash, walk)
  return Promise.all(
    peers.map(async (peer): Promise<ReplicaView> => {
      const where = place(peer, target)
      const answer = await ask(walk, peer, MessageType.GET_PROVIDERS, multihash)
      if (answer instanceof Error) return { ...where, status: 'unreachable', detail: answer.message }
      const providers = answer.name === 'PEER_RESPONSE' ? answer.providers.map((p) => p.id.toString()) : []
      return { ...where, status: providers.length > 0 ? 'holder' : 'missing', providers }
    })
  )
}
