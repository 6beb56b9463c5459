import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { DEFAULT_IP_DIVERSITY, ipGroup } from '../../../src/main/peer/ip-diversity.ts'

describe('ipGroup', () => {
  it('groups public IPv4 addresses by /16 and IPv6 by /32', () => {
    const group = (a: string) => ipGroup(multiaddr(a), DEFAULT_IP_DIVERSITY)
    expect(group('/ip4/8.8.8.8/tcp/1')).toBe(group('/ip4/8.8.4.4/udp/2/quic-v1'))
    expect(group('/ip4/8.8.8.8/tcp/1')).not.toBe(group('/ip4/8.9.4.4/tcp/1'))
    expect(group('/ip6/2606:4700::1/tcp/1')).toBe(group('/ip6/2606:4700:ffff::2/tcp/1'))
    expect(group('/ip6/2606:4700::1/tcp/1')).not.toBe(group('/ip6/2606:4701::1/tcp/1'))
  })

  it('leaves private, loopback and name-only addresses out unless told to include private ones', () => {
    for (const a of [
      '/ip4/192.168.1.5/tcp/1',
      '/ip4/127.0.0.1/tcp/1',
      '/ip4/10.0.0.1/tcp/1',
      '/dns4/robot.local/tcp/1'
    ])
      expect(ipGroup(multiaddr(a), DEFAULT_IP_DIVERSITY)).toBeNull()
    const strict = { ...DEFAULT_IP_DIVERSITY, includePrivate: true, ipv4Prefix: 24 }
    expect(ipGroup(multiaddr('/ip4/127.1.0.1/tcp/1'), strict)).toBe(
      ipGroup(multiaddr('/ip4/127.1.0.9/tcp/2'), strict)
    )
    expect(ipGroup(multiaddr('/ip4/127.1.0.1/tcp/1'), strict)).not.toBe(
      ipGroup(multiaddr('/ip4/127.0.3.1/tcp/1'), strict)
    )
  })
})
