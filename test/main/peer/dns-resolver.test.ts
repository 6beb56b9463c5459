/**
 * DNS names are dialled at their IPs (so that a connection's remote address is one the IP-diversity filter can
 * group): `localhost` resolves through the operating system's resolver, the rest of the address is kept, and secure
 * WebSockets keep their name for TLS.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { dnsHostResolver } from '../../../src/main/peer/dns-resolver.ts'

const PEER = '12D3KooWGzZxR7Nb3pY5mfxyNPPBDQaUVaJdgqk7zE1eSh1CVb3W'

describe('dnsHostResolver', () => {
  it('resolves dns4, dns6 and dns names to IP addresses, keeping the rest of the address', async () => {
    const resolve = async (a: string): Promise<string[]> =>
      (await dnsHostResolver.resolve(multiaddr(a), {})).map(String)
    expect(await resolve(`/dns4/localhost/tcp/4001/p2p/${PEER}`)).toEqual([
      `/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`
    ])
    expect(await resolve('/dns/localhost/tcp/4001/ws')).toContain('/ip4/127.0.0.1/tcp/4001/ws')
    for (const address of await resolve('/dns/localhost/tcp/4001')) expect(address).toMatch(/^\/ip[46]\//)
  })

  it('leaves IP addresses, dnsaddr and secure WebSockets alone', () => {
    for (const a of [
      '/ip4/127.0.0.1/tcp/1',
      '/dnsaddr/bootstrap.libp2p.io',
      '/dns4/example.com/tcp/443/wss',
      '/dns4/example.com/tcp/443/tls/ws'
    ])
      expect(dnsHostResolver.canResolve(multiaddr(a)), a).toBe(false)
    expect(dnsHostResolver.canResolve(multiaddr('/dns4/robot.local/tcp/4001'))).toBe(true)
  })
})
