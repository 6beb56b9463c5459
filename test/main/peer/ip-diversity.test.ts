import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection, PeerId } from '@libp2p/interface'
import type { Libp2p } from 'libp2p'
import { kadRoutingTable } from '../../../src/main/peer/routing-table-view.ts'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_IP_DIVERSITY,
  IpDiversityFilter,
  addressGroup,
  type PeerAddressSource
} from '../../../src/main/peer/ip-diversity.ts'
import type { Hearsay } from '../../../src/main/peer/hearsay.ts'
import { kadNode } from '../../helpers/kad-node.ts'

describe('addressGroup', () => {
  it('groups public IPv4 addresses by /16 and IPv6 by /32', () => {
    const group = (a: string) => addressGroup(multiaddr(a), DEFAULT_IP_DIVERSITY)
    expect(group('/ip4/8.8.8.8/tcp/1')).toBe(group('/ip4/8.8.4.4/udp/2/quic-v1'))
    expect(group('/ip4/8.8.8.8/tcp/1')).not.toBe(group('/ip4/8.9.4.4/tcp/1'))
    expect(group('/ip6/2606:4700::1/tcp/1')).toBe(group('/ip6/2606:4700:ffff::2/tcp/1'))
    expect(group('/ip6/2606:4700::1/tcp/1')).not.toBe(group('/ip6/2606:4701::1/tcp/1'))
    // How a dual-stack socket sees an IPv4 peer: grouped as the IPv4 address it maps (exempt when that is private).
    expect(group('/ip6/::ffff:8.8.8.8/tcp/1')).toBe(group('/ip4/8.8.4.4/tcp/1'))
    expect(group('/ip6/::ffff:8.8.8.8/tcp/1')).not.toBe(group('/ip6/::ffff:9.9.9.9/tcp/1'))
    expect(group('/ip6/::ffff:192.168.1.5/tcp/1')).toBeNull()
    // And how an IPv6-only network reaches one through NAT64.
    expect(group('/ip6/64:ff9b::8.8.8.8/tcp/1')).toBe(group('/ip4/8.8.4.4/tcp/1'))
  })

  it('groups DNS names by their last two labels; names of this machine or LAN are exempt', () => {
    const group = (a: string) => addressGroup(multiaddr(a), DEFAULT_IP_DIVERSITY)
    expect(group('/dns4/a.evil.example/tcp/1')).toBe('name/evil.example')
    expect(group('/dns6/b.c.evil.example/tcp/1/ws')).toBe(group('/dns/EVIL.example./tcp/2'))
    expect(group('/dns4/evil.example/tcp/1')).not.toBe(group('/dns4/other.example/tcp/1'))
    for (const a of [
      '/dns4/robot-3.local/tcp/1',
      '/dns4/localhost/tcp/1',
      '/dns4/robot-3/tcp/1',
      '/dns4/x.home.arpa/tcp/1'
    ])
      expect(group(a), a).toBeNull()
    expect(
      addressGroup(multiaddr('/dns4/localhost/tcp/1'), { ...DEFAULT_IP_DIVERSITY, includePrivate: true })
    ).toBe('name/localhost')
    expect(group('/ip6zone/eth0/ip6/fe80::1/tcp/1'), 'a zoned link-local address').toBeNull()
  })

  it('leaves private, loopback and name-only addresses out unless told to include private ones', () => {
    for (const a of [
      '/ip4/192.168.1.5/tcp/1',
      '/ip4/127.0.0.1/tcp/1',
      '/ip4/10.0.0.1/tcp/1',
      '/dns4/robot.local/tcp/1'
    ])
      expect(addressGroup(multiaddr(a), DEFAULT_IP_DIVERSITY)).toBeNull()
    const strict = { ...DEFAULT_IP_DIVERSITY, includePrivate: true, ipv4Prefix: 24 }
    expect(addressGroup(multiaddr('/ip4/127.1.0.1/tcp/1'), strict)).toBe(
      addressGroup(multiaddr('/ip4/127.1.0.9/tcp/2'), strict)
    )
    expect(addressGroup(multiaddr('/ip4/127.1.0.1/tcp/1'), strict)).not.toBe(
      addressGroup(multiaddr('/ip4/127.0.3.1/tcp/1'), strict)
    )
  })
})

/** What the filter reads of a node: its peer store, and connections that come from where `from` says. */
function fakeSource(node: Libp2p, from: Map<string, string>): PeerAddressSource {
  return {
    peerStore: node.peerStore,
    addEventListener: () => {},
    getConnections: (peerId) => {
      const address = peerId == null ? undefined : from.get(peerId.toString())
      return address == null
        ? []
        : [{ status: 'open', remoteAddr: multiaddr(address) } as unknown as Connection]
    }
  }
}

const newPeerId = async (): Promise<PeerId> => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))

describe('IpDiversityFilter at the door', () => {
  it('places a contact proven alive without a connection it can read (a relayed one) by what it announces', async () => {
    const node = await kadNode({ ip: '127.0.0.1', protocol: '/swarm-inspector-test/kad/1.0.0' })
    try {
      const from = new Map<string, string>()
      const table = kadRoutingTable(node.services.dht)
      // The contact check, passed: as for a peer it found connected (here, through a relay).
      table.kb.verify = async () => true
      const filter = new IpDiversityFilter(
        node.services.dht,
        fakeSource(node, from),
        DEFAULT_IP_DIVERSITY,
        () => false
      )
      const relayed = await Promise.all([1, 2, 3, 4, 5].map(newPeerId))
      for (const [i, peerId] of relayed.entries()) {
        // One public range announced (over SCTP: never dialled), and a connection only through a relay.
        await node.peerStore.merge(peerId, { multiaddrs: [multiaddr(`/ip4/8.8.${i}.1/sctp/9`)] })
        from.set(peerId.toString(), `/ip4/9.9.9.9/tcp/1/p2p/${node.peerId.toString()}/p2p-circuit`)
        await table.add(peerId)
      }
      const held = await Promise.all(relayed.map(async (p) => (await table.find(p)) != null))
      expect(held.filter(Boolean).length).toBe(DEFAULT_IP_DIVERSITY.maxPerGroup)
      expect(filter.refused).toBe(relayed.length - DEFAULT_IP_DIVERSITY.maxPerGroup)
    } finally {
      await node.stop()
    }
  })
})

describe("hearsay: how much of a peer's answer the table crawler takes", () => {
  it('takes the word of a peer connected from an exempt address; of any other, only the addresses it groups', async () => {
    const node = await kadNode({ ip: '127.0.0.1', protocol: '/swarm-inspector-test/kad/1.0.0' })
    try {
      // Where each peer's connection comes from (the filter reads nothing else of them here).
      const from = new Map<string, string>()
      const source = fakeSource(node, from)
      const filter = new IpDiversityFilter(node.services.dht, source, DEFAULT_IP_DIVERSITY, () => false)
      const [lan, stranger, unconnected] = await Promise.all([1, 2, 3].map(newPeerId))
      from.set(lan!.toString(), '/ip4/192.168.1.7/tcp/4001')
      from.set(stranger!.toString(), '/ip4/8.8.8.8/tcp/4001')
      const named = [
        '/ip4/192.168.1.9/tcp/4001',
        '/ip4/127.0.0.1/tcp/4001',
        '/dns4/robot.local/tcp/4001',
        '/dns4/relay.example.com/tcp/4001',
        '/ip4/9.9.9.9/tcp/4001',
        '/ip6/2606:4700::1/tcp/4001/p2p-circuit'
      ].map((a) => multiaddr(a))
      const kept = (hearsay: Hearsay): string[] => named.filter(hearsay.keeps).map(String)
      expect(filter.hearsay(lan!).vouches).toBe(true)
      expect(kept(filter.hearsay(lan!))).toEqual(named.map(String))
      for (const namer of [stranger!, unconnected!]) {
        expect(filter.hearsay(namer).vouches).toBe(false)
        expect(kept(filter.hearsay(namer))).toEqual([
          '/ip4/9.9.9.9/tcp/4001',
          '/ip6/2606:4700::1/tcp/4001/p2p-circuit'
        ])
      }
    } finally {
      await node.stop()
    }
  })
})
