/**
 * The ideal routing table of a peer, computed from the full list of live peers: what a kad-dht table would hold if
 * it knew everyone. kad-dht 16 keeps a trie of k-buckets split up to `prefixLength` bits deep, so its capacity is
 * k peers per `prefixLength`-bit prefix of the kad id; below a few hundred peers that is everyone.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { kadIdOfPeer } from '../src/main/peer/kad-id.ts'

export const KAD_DHT_BUCKET_SIZE = 20
export const KAD_DHT_PREFIX_LENGTH = 6

const kadIds = new Map<string, Uint8Array>()
function kadId(id: string): Uint8Array {
  let kad = kadIds.get(id)
  if (kad == null) {
    kad = kadIdOfPeer(peerIdFromString(id))
    kadIds.set(id, kad)
  }
  return kad
}

const leafOf = (kad: Uint8Array, bits: number): number => (kad[0] ?? 0) >> (8 - bits)

/** The peers an ideal table of `self` holds, out of `swarm` (which may include self). */
export function idealTable(
  self: string,
  swarm: string[],
  k = KAD_DHT_BUCKET_SIZE,
  prefixLength = KAD_DHT_PREFIX_LENGTH
): Set<string> {
  const leaves = new Map<number, string[]>()
  for (const id of swarm) {
    if (id === self) continue
    const leaf = leafOf(kadId(id), prefixLength)
    leaves.set(leaf, [...(leaves.get(leaf) ?? []), id])
  }
  // A full leaf keeps k of its peers; which k depends on arrival order, so any k of them count as ideal.
  return new Set([...leaves.values()].flatMap((ids) => ids.slice(0, k)))
}

/** How much of the ideal table a table holds, 0..1 (1 when the ideal table is empty). */
export function tableFill(self: string, table: string[], swarm: string[]): number {
  const ideal = idealTable(self, swarm)
  if (ideal.size === 0) return 1
  const live = new Set(swarm)
  const leaves = new Map<number, number>()
  for (const id of table) {
    if (!live.has(id) || id === self) continue
    const leaf = leafOf(kadId(id), KAD_DHT_PREFIX_LENGTH)
    leaves.set(leaf, (leaves.get(leaf) ?? 0) + 1)
  }
  let held = 0
  for (const count of leaves.values()) held += Math.min(count, KAD_DHT_BUCKET_SIZE)
  return Math.min(1, held / ideal.size)
}
