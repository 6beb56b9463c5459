/**
 * Sybil pressure: 24 identities from one address range connect to an honest peer, next to three honest peers from
 * other ranges. The Sybils and the honest peers (stock kad-dht peers) open their TCP connections from an address of
 * their own range (a socket bound to one of loopback's 127/8 addresses), as they would from their own networks. The
 * Sybils also lie: each announces an address of a range of its own, where nothing listens. With the IP-diversity
 * filter (grouping by /24, so loopback ranges count as different networks here), which groups a connected peer by
 * its connection's address, at most 3 of the Sybils get into its routing table and every honest peer does; grouped
 * by the addresses they announce, all 24 did; without the filter, the Sybils fill the table. The counts are printed:
 * they are the measurement README reports. The tests of what happens after the door run the filter and the contact
 * check on a stock kad-dht peer (`filteredKadPeer`), vouching by hand where a SwarmPeer's table crawler would. Last,
 * a peer that names made-up identities in its answers gets none into the table of a peer to which it is on another
 * network (they are dialled first), and all into that of a peer of its own network, which takes its word.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { passthroughMapper, type KadDHT, type KadDHTInit } from '@libp2p/kad-dht'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PeerId } from '@libp2p/interface'
import { DEFAULT_DHT_PROTOCOL } from '../../../src/shared/swarm-defaults.ts'
import type { SwarmPeer } from '../../../src/main/peer/swarm-peer.ts'
import { kadRoutingTable } from '../../../src/main/peer/routing-table-view.ts'
import { checkContactsByConnection } from '../../../src/main/peer/contact-check.ts'
import {
  DEFAULT_IP_DIVERSITY,
  IpDiversityFilter,
  type IpDiversityOptions
} from '../../../src/main/peer/ip-diversity.ts'
import { kadNode } from '../../helpers/kad-node.ts'
import { spawnPeer, teardown, waitFor } from '../../helpers/swarm.ts'

const SYBILS = 24
const FILTER = { maxPerGroup: 3, ipv4Prefix: 24, ipv6Prefix: 48, includePrivate: true }
/** The Sybils' one range: where they listen and where their connections come from. */
const SYBIL_IP = '127.1.0.1'

const tableOf = (peer: SwarmPeer | Libp2p<{ dht: KadDHT }>): Set<string> => {
  const dht = 'node' in peer ? peer.node.services.dht : peer.services.dht
  return new Set([...kadRoutingTable(dht).kb.toIterable()].map((p) => p.peerId.toString()))
}

/**
 * A stock kad-dht peer of the swarm's protocol that listens on `ip` and dials from `ip`. A liar announces `lie` (an
 * address where nothing listens) instead of its real address, or before it (`alsoTheTruth`). `dht` adds to kad-dht's
 * settings.
 */
async function kadPeer(
  ip: string,
  lie?: { announce: string; alsoTheTruth?: boolean },
  dht: Partial<KadDHTInit> = {}
): Promise<Libp2p<{ dht: KadDHT }>> {
  return kadNode({
    ip,
    protocol: DEFAULT_DHT_PROTOCOL,
    dht,
    ...(lie != null
      ? { announceFilter: (real) => [multiaddr(lie.announce), ...(lie.alsoTheTruth === true ? real : [])] }
      : {})
  })
}

/** New identities that `node` knows only by the address given for each, and has never been connected to. */
async function strangers(node: Libp2p, addresses: string[]): Promise<PeerId[]> {
  return Promise.all(
    addresses.map(async (address) => {
      const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      await node.peerStore.merge(peerId, { multiaddrs: [multiaddr(address)] })
      return peerId
    })
  )
}

/**
 * A stock kad-dht peer with the contact check and the IP-diversity filter installed over its routing table as a
 * SwarmPeer installs them, where the test vouches for peers by hand (a SwarmPeer's table crawler does, for the peers
 * a peer of its own network names: with loopback grouped, as here, it never would).
 */
async function filteredKadPeer(
  ip: string,
  options: IpDiversityOptions,
  shutdown: AbortSignal
): Promise<{
  node: Libp2p<{ dht: KadDHT }>
  filter: IpDiversityFilter
  table: ReturnType<typeof kadRoutingTable>
  vouch: (peerId: PeerId) => void
}> {
  // Keeping private addresses, as ours does (stock drops them, and would not take a loopback peer into its table).
  const node = await kadPeer(ip, undefined, { peerInfoMapper: passthroughMapper })
  const vouched = new Set<string>()
  const isVouched = (peerId: PeerId): boolean => vouched.has(peerId.toString())
  checkContactsByConnection(
    node.services.dht,
    node,
    shutdown,
    (peerId) => node.getConnections(peerId).some((c) => c.status === 'open') || isVouched(peerId)
  )
  const filter = new IpDiversityFilter(node.services.dht, node, options, isVouched)
  return {
    node,
    filter,
    table: kadRoutingTable(node.services.dht),
    vouch: (peerId) => vouched.add(peerId.toString())
  }
}

describe('Sybil pressure on the routing table', () => {
  const swarmPeers: SwarmPeer[] = []
  const kadPeers: Libp2p[] = []
  let filtered: SwarmPeer
  let open: SwarmPeer
  let honest: Libp2p[]
  let sybils: Libp2p[]
  const ids = (peers: Libp2p[]): string[] => peers.map((p) => p.peerId.toString())

  beforeAll(async () => {
    filtered = await spawnPeer({ listen: ['/ip4/127.0.0.1/tcp/0'], ipDiversity: FILTER })
    open = await spawnPeer({ listen: ['/ip4/127.0.0.2/tcp/0'], ipDiversity: null })
    swarmPeers.push(filtered, open)
    honest = await Promise.all([3, 4, 5].map((i) => kadPeer(`127.0.${i}.1`)))
    sybils = await Promise.all(
      Array.from({ length: SYBILS }, (_, i) => kadPeer(SYBIL_IP, { announce: `/ip4/127.2.${i}.1/tcp/9` }))
    )
    kadPeers.push(...honest, ...sybils)
    for (const peer of [...honest, ...sybils]) {
      for (const target of [filtered, open]) await peer.dial(target.node.getMultiaddrs()[0]!)
    }
  }, 120_000)

  const shutdown = new AbortController()

  afterAll(async () => {
    shutdown.abort()
    await Promise.all(kadPeers.map((p) => p.stop()))
    await teardown(swarmPeers)
  })

  it('admits at most maxPerGroup Sybils with the filter, whatever they announce, and many without it', async () => {
    const honestIds = ids(honest)
    const sybilIds = new Set(ids(sybils))
    const sybilsIn = (peer: SwarmPeer): number => [...tableOf(peer)].filter((id) => sybilIds.has(id)).length
    await waitFor(
      () => honestIds.every((id) => tableOf(filtered).has(id) && tableOf(open).has(id)),
      'both peers to hold every honest peer'
    )
    // The filtered peer knows where each Sybil claims to be (identify brought it), and it is not where they connect
    // from: the filter was offered the lie.
    const hostOf = (address: { getComponents(): Array<{ value?: string }> }): string | undefined =>
      address.getComponents()[0]?.value
    const announced = async (sybil: Libp2p): Promise<Array<string | undefined>> =>
      (await filtered.node.peerStore.get(sybil.peerId)).addresses.map((a) => hostOf(a.multiaddr))
    await waitFor(
      async () => (await Promise.all(sybils.map(announced))).every((hosts) => hosts.length > 0),
      'the filtered peer to hear (identify) where every Sybil claims to be'
    )
    for (const [i, sybil] of sybils.entries()) {
      expect(await announced(sybil)).toEqual([`127.2.${i}.1`])
      const from = filtered.node.getConnections(sybil.peerId).map((c) => hostOf(c.remoteAddr))
      expect(from).toContain(SYBIL_IP)
    }
    await waitFor(() => sybilsIn(open) >= SYBILS / 2, 'Sybils in the unfiltered table')
    // Counted once the filter has let in or turned away at least half of them.
    await waitFor(
      () => sybilsIn(filtered) + filtered.diversity!.refused >= SYBILS / 2,
      'the filter to decide'
    )
    const inFiltered = sybilsIn(filtered)
    const inOpen = sybilsIn(open)
    console.info(
      `Sybil identities in the routing table: ${inFiltered} of ${SYBILS} with the filter, ${inOpen} without`
    )
    expect(inFiltered).toBeLessThanOrEqual(FILTER.maxPerGroup)
    expect(inOpen).toBeGreaterThan(FILTER.maxPerGroup)
  }, 60_000)

  it('tells, taking no place, which peers of a list it would admit together (what a republish writes to)', async () => {
    const filter = filtered.diversity!
    const admitted = async (by: SwarmPeer, peers: PeerId[]): Promise<string[]> =>
      (await by.diversity!.admitted(peers)).map(String)
    const table = tableOf(filtered)
    const held = sybils.filter((p) => table.has(p.peerId.toString()))
    const kept = sybils.filter((p) => !table.has(p.peerId.toString()))
    expect(held.length, "the Sybils' group fills the filtered table to maxPerGroup").toBe(FILTER.maxPerGroup)
    // A full group: the peers held pass, newcomers of that group do not, peers of other groups do.
    const peerIds = (peers: Libp2p[]): PeerId[] => peers.map((p) => p.peerId)
    expect(await admitted(filtered, peerIds([...kept, ...held, ...honest]))).toEqual(
      ids([...held, ...honest])
    )
    expect(await admitted(filtered, peerIds(kept))).toEqual([])
    expect(ids(sybils.filter((p) => tableOf(filtered).has(p.peerId.toString())))).toEqual(ids(held))
    expect(filter.refused).toBeGreaterThan(0)

    // A peer connected to none of them groups them by the addresses it was told (here, their real ones, one range).
    // A group with room: as many newcomers as it has room for, nearest (first) first, and asking takes no place, so
    // asking again in another order gives others.
    const empty = await spawnPeer({ listen: ['/ip4/127.0.6.1/tcp/0'], ipDiversity: FILTER })
    swarmPeers.push(empty)
    for (const [i, sybil] of sybils.entries())
      await empty.node.peerStore.merge(sybil.peerId, {
        multiaddrs: [multiaddr(`/ip4/${SYBIL_IP}/tcp/${1000 + i}`)]
      })
    expect(await admitted(empty, peerIds(sybils))).toEqual(ids(sybils.slice(0, FILTER.maxPerGroup)))
    // A peer with no address it knows of, and no connection, is exempt: it passes wherever it is in the list.
    const nowhere = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    expect(await admitted(empty, [...peerIds(sybils), nowhere])).toEqual([
      ...ids(sybils.slice(0, FILTER.maxPerGroup)),
      nowhere.toString()
    ])
    const reversed = [...sybils].reverse()
    expect(await admitted(empty, peerIds(reversed))).toEqual(ids(reversed.slice(0, FILTER.maxPerGroup)))
  }, 60_000)

  it('groups a peer again when it connects, and removes it when that group is full', async () => {
    // Six Sybils that announce distant ranges get into a fresh filtered peer's table before connecting, on another
    // peer's word (vouched for, as the table crawler does for the peers a peer of its own network names); once they
    // connect from the Sybils' range, three of them fill that group and the other three leave the table.
    const fresh = await filteredKadPeer('127.0.7.1', FILTER, shutdown.signal)
    kadPeers.push(fresh.node)
    const { table } = fresh
    const late = sybils.slice(0, FILTER.maxPerGroup + 3)
    for (const sybil of late) {
      fresh.vouch(sybil.peerId)
      await fresh.node.peerStore.merge(sybil.peerId, { multiaddrs: sybil.getMultiaddrs() })
      await table.add(sybil.peerId)
    }
    expect(
      late.every((p) => tableOf(fresh.node).has(p.peerId.toString())),
      'let in by what they announce'
    ).toBe(true)
    expect(fresh.node.getConnections().length, 'undialled').toBe(0)
    for (const sybil of late) await sybil.dial(fresh.node.getMultiaddrs()[0]!)
    await waitFor(
      () => late.filter((p) => tableOf(fresh.node).has(p.peerId.toString())).length === FILTER.maxPerGroup,
      'the Sybils past the group limit to leave the table'
    )
    expect(fresh.filter.refused).toBeGreaterThanOrEqual(late.length - FILTER.maxPerGroup)

    // A contact neither connected nor vouched for is dialled before it goes into its bucket, and placed by that
    // connection: one that announces a distant range first and its real address after (where the dial reaches it,
    // in the Sybils' full group) never enters the table, and holds no place in the distant range either.
    const liar = await kadPeer(SYBIL_IP, { announce: '/ip4/127.0.200.1/tcp/9', alsoTheTruth: true })
    kadPeers.push(liar)
    await fresh.node.peerStore.merge(liar.peerId, { multiaddrs: liar.getMultiaddrs() })
    let entered = false
    table.addEventListener('peer:add', (event) => (entered ||= event.detail.equals(liar.peerId)))
    await table.add(liar.peerId)
    expect(fresh.node.getConnections(liar.peerId).length, 'the add dialled it').toBeGreaterThan(0)
    expect(await table.find(liar.peerId), 'out of the table').toBeUndefined()
    expect(entered, 'kept out at the door, not let in and removed').toBe(false)
    const distant = await strangers(
      fresh.node,
      [1, 2, 3].map((i) => `/ip4/127.0.200.${i}/tcp/9`)
    )
    expect(await fresh.filter.admitted(distant), 'the distant range has all its room').toEqual(distant)
  }, 60_000)

  it('places a contact it dials by that connection: made-up peers hold no place while their dials run', async () => {
    // Made-up peers a stranger named (so unvouched, and dialled), announcing the range of an honest peer added at
    // the same time: none of them enters, and the honest peer does. Placed by what they announced while their dials
    // ran, they filled that range, and the honest peer was turned away.
    const fresh = await filteredKadPeer('127.0.15.1', FILTER, shutdown.signal)
    kadPeers.push(fresh.node)
    const impostors = await strangers(
      fresh.node,
      [1, 2, 3, 4].map((i) => `/ip4/127.0.3.${100 + i}/tcp/9`)
    )
    const honestOfThatRange = await kadPeer('127.0.3.2')
    kadPeers.push(honestOfThatRange)
    await fresh.node.peerStore.merge(honestOfThatRange.peerId, {
      multiaddrs: honestOfThatRange.getMultiaddrs()
    })
    await Promise.all([...impostors, honestOfThatRange.peerId].map((p) => fresh.table.add(p)))
    expect(impostors.filter((p) => tableOf(fresh.node).has(p.toString()))).toEqual([])
    expect(tableOf(fresh.node).has(honestOfThatRange.peerId.toString()), 'the honest peer got in').toBe(true)
  }, 60_000)

  it('frees the place a peer took by what it announced once it connects from an exempt (private) address', async () => {
    // Private addresses exempt, as by default: a peer let in on another peer's word under the public range it
    // announced, which then connects over the LAN (loopback here), holds no place in that range, as if it had
    // connected first. (Public addresses over a transport no peer here has, SCTP: grouped like any, and never
    // dialled off this machine.)
    const lan = await filteredKadPeer('127.0.9.1', DEFAULT_IP_DIVERSITY, shutdown.signal)
    kadPeers.push(lan.node)
    const neighbour = await kadPeer('127.0.10.1')
    kadPeers.push(neighbour)
    lan.vouch(neighbour.peerId)
    await lan.node.peerStore.merge(neighbour.peerId, { multiaddrs: [multiaddr('/ip4/8.8.8.8/sctp/9')] })
    await lan.table.add(neighbour.peerId)
    expect(await lan.table.find(neighbour.peerId)).toBeDefined()
    const publicPeers = await strangers(
      lan.node,
      [1, 2, 3].map((i) => `/ip4/8.8.${i}.1/sctp/9`)
    )
    expect(await lan.filter.admitted(publicPeers), 'its place taken').toEqual(publicPeers.slice(0, 2))
    await neighbour.dial(lan.node.getMultiaddrs()[0]!)
    await waitFor(
      async () => (await lan.filter.admitted(publicPeers)).length === publicPeers.length,
      'its place in the public range to be freed'
    )
    expect(await lan.table.find(neighbour.peerId), 'still in the table').toBeDefined()
  }, 60_000)

  it("takes a peer's word for the peers it names only when it is of its own network (an exempt address)", async () => {
    // A peer names made-up identities, each announcing a range of its own where nothing listens (kad-dht names the
    // peers of its table; this one's table was filled by hand, and it names private addresses too).
    const namer = await kadPeer('127.0.11.1', undefined, { peerInfoMapper: passthroughMapper })
    kadPeers.push(namer)
    const namerTable = kadRoutingTable(namer.services.dht)
    namerTable.kb.verify = async () => true
    const madeUp = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
        await namer.peerStore.merge(peerId, { multiaddrs: [multiaddr(`/ip4/127.3.${i}.1/tcp/9`)] })
        await namerTable.add(peerId)
        return peerId
      })
    )
    // And one real peer, which a dial finds where the namer says it is.
    const real = await kadPeer('127.0.14.1')
    kadPeers.push(real)
    await namer.peerStore.merge(real.peerId, { multiaddrs: real.getMultiaddrs() })
    await namerTable.add(real.peerId)
    // And five more in one public range (over SCTP, which no peer here dials): a word taken still passes the filter.
    const oneRange = await Promise.all(
      [1, 2, 3, 4, 5].map(async (i) => {
        const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
        await namer.peerStore.merge(peerId, { multiaddrs: [multiaddr(`/ip4/8.8.${i}.1/sctp/9`)] })
        await namerTable.add(peerId)
        return peerId
      })
    )
    // Loopback grouped (FILTER): the namer is on another network, so what it names is dialled first. Loopback
    // exempt (the default): the namer is of this peer's own network, and its word lets them in.
    const wary = await spawnPeer({ listen: ['/ip4/127.0.12.1/tcp/0'], ipDiversity: FILTER })
    const trusting = await spawnPeer({ listen: ['/ip4/127.0.13.1/tcp/0'] })
    swarmPeers.push(wary, trusting)
    for (const peer of [wary, trusting]) await peer.node.dial(namer.getMultiaddrs()[0]!)
    await waitFor(() => wary.oneRoundReady && trusting.oneRoundReady, 'both peers to have crawled the namer')
    const madeUpIn = (peer: SwarmPeer): number => madeUp.filter((p) => tableOf(peer).has(p.toString())).length
    await waitFor(() => madeUpIn(trusting) === madeUp.length, "the trusting peer to take the namer's word")
    console.info(
      `Made-up identities named by a peer: ${madeUpIn(wary)} of ${madeUp.length} in the table of a peer that ` +
        `dials them first, ${madeUpIn(trusting)} taken on the word of a peer of its own network`
    )
    expect(madeUpIn(wary)).toBe(0)
    expect(tableOf(wary).has(namer.peerId.toString()), 'the namer itself is in').toBe(true)
    const oneRangeIn = (peer: SwarmPeer): number =>
      oneRange.filter((p) => tableOf(peer).has(p.toString())).length
    expect(trusting.diversity!.refused, 'the namer named them all').toBeGreaterThan(0)
    expect(oneRangeIn(trusting), 'at most maxPerGroup of one range, on any word').toBe(
      DEFAULT_IP_DIVERSITY.maxPerGroup
    )
    // The answer was taken, and what it named was dialled: the real peer is in, over a connection the dial opened.
    const stored = await Promise.all(madeUp.map((p) => wary.node.peerStore.has(p)))
    expect(stored.every(Boolean), 'the made-up peers were heard of').toBe(true)
    await waitFor(() => tableOf(wary).has(real.peerId.toString()), 'the real peer to enter through a dial')
    expect(wary.node.getConnections(real.peerId).length).toBeGreaterThan(0)
  }, 60_000)

  it('groups a peer connected by a DNS name by that name', async () => {
    // Six identities of one host, each announcing first an address in a range of its own, dialled at /dns4/localhost (as
    // a name each announced would be): libp2p dials a name as it is, and the connection keeps it as its remote
    // address. Grouped by that name (localhost counts as a name here, as loopback counts as a range), 3 get in;
    // before, a connection known by a name counted as exempt, and all 6 did.
    const byName = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((i) =>
        kadPeer('127.0.0.1', { announce: `/ip4/127.4.${i}.1/tcp/9`, alsoTheTruth: true })
      )
    )
    kadPeers.push(...byName)
    const dialler = await spawnPeer({ listen: ['/ip4/127.0.16.1/tcp/0'], ipDiversity: FILTER })
    swarmPeers.push(dialler)
    for (const peer of byName) {
      const real = peer.getMultiaddrs().find((a) => a.toString().startsWith('/ip4/127.0.0.1/'))!
      const port = real.getComponents().find((c) => c.name === 'tcp')?.value
      await dialler.node.dial(multiaddr(`/dns4/localhost/tcp/${port}/p2p/${peer.peerId.toString()}`))
    }
    const from = byName.flatMap((p) =>
      dialler.node.getConnections(p.peerId).map((c) => c.remoteAddr.toString())
    )
    expect(
      from.every((a) => a.startsWith('/dns4/localhost/')),
      from.join(' ')
    ).toBe(true)
    const inTable = (): number => byName.filter((p) => tableOf(dialler).has(p.peerId.toString())).length
    await waitFor(async () => {
      const decided = await Promise.all(
        byName.map(async (p) => (await dialler.node.peerStore.get(p.peerId)).protocols.length > 0)
      )
      return decided.every(Boolean) && inTable() + dialler.diversity!.refused >= byName.length
    }, 'the filter to decide on all six')
    // Let any add still under way land before counting.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(inTable()).toBe(FILTER.maxPerGroup)
  }, 60_000)
})
