/**
 * Sybil pressure: 24 identities from one address range (127.1.0.1, many ports) connect to an honest peer, next to
 * three honest peers from other ranges. With the IP-diversity filter (grouping by /24, so loopback ranges count as
 * different networks here) at most 3 of the Sybils get into its routing table and every honest peer does; without
 * it, the Sybils fill the table. Both counts are printed: they are the measurement the swarm lab reports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SwarmPeer } from '../../../src/main/peer/swarm-peer.ts'
import { kadRoutingTable } from '../../../src/main/peer/routing-table-view.ts'
import { spawnPeer, teardown, waitFor } from '../../helpers/swarm.ts'

const SYBILS = 24
const FILTER = { maxPerGroup: 3, ipv4Prefix: 24, ipv6Prefix: 48, includePrivate: true }

const tableOf = (peer: SwarmPeer): Set<string> =>
  new Set([...kadRoutingTable(peer.node.services.dht).kb.toIterable()].map((p) => p.peerId.toString()))

describe('Sybil pressure on the routing table', () => {
  const all: SwarmPeer[] = []
  let filtered: SwarmPeer
  let open: SwarmPeer
  let honest: SwarmPeer[]
  let sybils: SwarmPeer[]

  beforeAll(async () => {
    filtered = await spawnPeer({ listen: ['/ip4/127.0.0.1/tcp/0'], ipDiversity: FILTER })
    open = await spawnPeer({ listen: ['/ip4/127.0.0.2/tcp/0'], ipDiversity: null })
    all.push(filtered, open)
    honest = await Promise.all([3, 4, 5].map((i) => spawnPeer({ listen: [`/ip4/127.0.${i}.1/tcp/0`] })))
    sybils = await Promise.all(
      Array.from({ length: SYBILS }, () => spawnPeer({ listen: ['/ip4/127.1.0.1/tcp/0'] }))
    )
    all.push(...honest, ...sybils)
    for (const peer of [...honest, ...sybils]) {
      for (const target of [filtered, open])
        await peer.dial({ multiaddr: target.node.getMultiaddrs()[0]!.toString() }, {})
    }
  }, 120_000)

  afterAll(async () => {
    await teardown(all)
  })

  it('admits at most maxPerGroup Sybils with the filter, and many without it', async () => {
    const honestIds = honest.map((p) => p.peerId.toString())
    const sybilIds = new Set(sybils.map((p) => p.peerId.toString()))
    await waitFor(
      () => honestIds.every((id) => tableOf(filtered).has(id) && tableOf(open).has(id)),
      'both peers to hold every honest peer'
    )
    await waitFor(() => [...tableOf(open)].filter((id) => sybilIds.has(id)).length >= SYBILS / 2, 'Sybils in')
    const inFiltered = [...tableOf(filtered)].filter((id) => sybilIds.has(id)).length
    const inOpen = [...tableOf(open)].filter((id) => sybilIds.has(id)).length
    console.info(
      `Sybil identities in the routing table: ${inFiltered} of ${SYBILS} with the filter, ${inOpen} without`
    )
    expect(inFiltered).toBeLessThanOrEqual(FILTER.maxPerGroup)
    expect(inOpen).toBeGreaterThan(FILTER.maxPerGroup)
  }, 60_000)

  it('tells, taking no place, which peers of a list it would admit together (what a republish writes to)', async () => {
    const filter = filtered.diversity!
    // The filter groups peers by the addresses they announce, which identify brings.
    const announced = async (peer: SwarmPeer): Promise<boolean> =>
      ((await filtered.node.peerStore.get(peer.peerId).catch(() => null))?.addresses.length ?? 0) > 0
    await waitFor(
      async () => (await Promise.all(sybils.map(announced))).every(Boolean),
      'the filtered peer to know the address every Sybil announces'
    )
    const ids = (peers: SwarmPeer[]): string[] => peers.map((p) => p.peerId.toString())
    const admitted = async (by: SwarmPeer, peers: SwarmPeer[]): Promise<string[]> =>
      (await by.diversity!.admitted(peers.map((p) => p.peerId))).map(String)
    const table = tableOf(filtered)
    const held = sybils.filter((p) => table.has(p.peerId.toString()))
    const kept = sybils.filter((p) => !table.has(p.peerId.toString()))
    expect(held.length, "the Sybils' group fills the filtered table to maxPerGroup").toBe(FILTER.maxPerGroup)
    // A full group: the peers held pass, newcomers of that group do not, peers of other groups do.
    expect(await admitted(filtered, [...kept, ...held, ...honest])).toEqual(ids([...held, ...honest]))
    expect(await admitted(filtered, kept)).toEqual([])
    expect(ids(sybils.filter((p) => tableOf(filtered).has(p.peerId.toString())))).toEqual(ids(held))
    expect(filter.refused).toBeGreaterThan(0)

    // A group with room (a peer that holds nobody and learns the Sybils' addresses): as many newcomers as it has
    // room for, nearest (first) first, and asking takes no place, so asking again in another order gives others.
    const empty = await spawnPeer({ listen: ['/ip4/127.0.6.1/tcp/0'], ipDiversity: FILTER })
    all.push(empty)
    for (const sybil of sybils)
      await empty.node.peerStore.merge(sybil.peerId, { multiaddrs: sybil.node.getMultiaddrs() })
    expect(await admitted(empty, sybils)).toEqual(ids(sybils.slice(0, FILTER.maxPerGroup)))
    const reversed = [...sybils].reverse()
    expect(await admitted(empty, reversed)).toEqual(ids(reversed.slice(0, FILTER.maxPerGroup)))
  }, 60_000)
})
