/**
 * What finishes kad-dht's walk (closest-walk.ts): which peers heard of are asked next. The live case (a republish
 * whose walk would miss one of the k closest) is in republish-walk.test.ts; here, what a hostile answer can do.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { EventTypes, MessageType, type QueryEvent } from '@libp2p/kad-dht'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId, PeerInfo } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { compare } from 'uint8arrays'
import { describe, expect, it } from 'vitest'
import { xor } from '../../../src/shared/kademlia.ts'
import { utf8 } from '../../../src/shared/bytes.ts'
import { WalkFrontier } from '../../../src/main/peer/closest-walk.ts'
import { kadIdOfKey, kadIdOfPeer } from '../../../src/main/peer/kad-id.ts'

const K = 4
const KEY = utf8.encode('/lab/walk/key')
const path = { index: 0, queued: 0, running: 0, total: 0 }

/** `count` new peer ids, nearest to KEY first. */
async function peersByDistance(count: number): Promise<PeerId[]> {
  const target = kadIdOfKey(KEY)
  const ids = await Promise.all(
    Array.from({ length: count }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')))
  )
  const distance = (p: PeerId): Uint8Array => xor(kadIdOfPeer(p), target)
  return ids.sort((a, b) => compare(distance(a), distance(b)))
}

const info = (id: PeerId, addressed = true): PeerInfo => ({
  id,
  multiaddrs: addressed ? [multiaddr('/ip4/127.0.0.1/tcp/9')] : []
})

const answer = (from: PeerId, closer: PeerInfo[]): QueryEvent => ({
  name: 'PEER_RESPONSE',
  type: EventTypes.PEER_RESPONSE,
  from,
  messageName: 'FIND_NODE',
  messageType: MessageType.FIND_NODE,
  closer,
  providers: [],
  path
})
const sent = (to: PeerId): QueryEvent => ({
  name: 'SEND_QUERY',
  type: EventTypes.SEND_QUERY,
  to,
  messageName: 'FIND_NODE',
  messageType: MessageType.FIND_NODE,
  path
})
const failed = (from: PeerId): QueryEvent => ({
  name: 'QUERY_ERROR',
  type: EventTypes.QUERY_ERROR,
  from,
  error: new Error('refused'),
  path
})
const names = (peers: PeerId[]): string[] => peers.map(String)

describe('finishing a walk', () => {
  it('asks the unasked peers closer than the k-th that answered, nearest first', async () => {
    // p[0..9] by distance; the walk asked p[2], p[4..6] (all answered) and they named p[0], p[1], p[3] and p[8].
    const p = await peersByDistance(10)
    const self = p[9]!
    const frontier = new WalkFrontier(KEY, K, self)
    for (const asked of [p[2]!, p[4]!, p[5]!, p[6]!]) frontier.observe(sent(asked))
    frontier.observe(answer(p[4]!, [info(p[3]!), info(p[8]!), info(p[2]!)]))
    frontier.observe(answer(p[5]!, [info(p[1]!), info(p[4]!)]))
    frontier.observe(answer(p[6]!, [info(p[0]!), info(p[7]!)]))
    frontier.observe(answer(p[2]!, [info(p[1]!)]))
    expect(names(frontier.closest())).toEqual(names([p[2]!, p[4]!, p[5]!, p[6]!]))
    // p[7] and p[8] are farther than p[6], the 4th that answered: not needed.
    expect(names(frontier.next())).toEqual(names([p[0]!, p[1]!, p[3]!]))
    // Once they have answered or failed, the walk has ended.
    frontier.observe(answer(p[0]!, []))
    frontier.observe(answer(p[1]!, []))
    frontier.observe(failed(p[3]!))
    expect(frontier.next()).toEqual([])
    expect(names(frontier.closest())).toEqual(names([p[0]!, p[1]!, p[2]!, p[4]!]))
  })

  it('takes at most half of a pass from one peer, nothing without an address, never itself', async () => {
    // A hostile answer names, nearest the key of all, a peer without an address (p[0]), the asker itself (p[1]) and
    // six made-up peers (p[2..7]); an honest answer names the real next closest (p[8]), farther than all of them.
    const p = await peersByDistance(14)
    const self = p[1]!
    const [hostile, honest] = [p[12]!, p[13]!]
    const frontier = new WalkFrontier(KEY, K, self)
    frontier.observe(
      answer(hostile, [info(p[0]!, false), info(self), ...p.slice(2, 8).map((id) => info(id))])
    )
    frontier.observe(answer(honest, [info(p[8]!)]))
    const first = frontier.next()
    // An answer counts only its k nearest it could ask (p[2..5]), and two of them a pass: the honest peer's gets in.
    expect(names(first)).toEqual(names([p[2]!, p[3]!, p[8]!]))
    first.forEach((id) => frontier.observe(id.equals(p[8]!) ? answer(id, []) : failed(id)))
    expect(names(frontier.next())).toEqual(names([p[4]!, p[5]!]))
    for (const id of [p[4]!, p[5]!]) frontier.observe(failed(id))
    // p[6] and p[7] were past the hostile answer's k nearest; p[0] had no address; this peer is never asked.
    expect(frontier.next()).toEqual([])
  })

  it('shares a pass among the answers that named its peers, so two hostile answers cannot fill it', async () => {
    // Two hostile answers name four made-up peers each, all nearer the key (p[0..7]) than the real peer an honest
    // answer names (p[8]). Taken nearest first, two per answer, the two would fill the pass with their own.
    const p = await peersByDistance(12)
    const [first, second, honest] = [p[9]!, p[10]!, p[11]!]
    const self = (await peersByDistance(1))[0]!
    const frontier = new WalkFrontier(KEY, K, self)
    frontier.observe(
      answer(
        first,
        p.slice(0, 4).map((id) => info(id))
      )
    )
    frontier.observe(
      answer(
        second,
        p.slice(4, 8).map((id) => info(id))
      )
    )
    frontier.observe(answer(honest, [info(p[8]!)]))
    expect(names(frontier.next())).toEqual(names([p[0]!, p[1]!, p[4]!, p[8]!]))
    // A peer named by an honest answer as well is not charged to the hostile one that named it first.
    const again = new WalkFrontier(KEY, K, self)
    again.observe(
      answer(
        first,
        [...p.slice(0, 3), p[8]!].map((id) => info(id))
      )
    )
    again.observe(answer(honest, [info(p[8]!)]))
    expect(names(again.next())).toEqual(names([p[0]!, p[1]!, p[8]!]))
  })
})
