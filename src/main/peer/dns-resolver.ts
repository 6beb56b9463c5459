/**
 * Dials a DNS address at the IPs its name resolves to, so that the connection's remote address is an IP.
 *
 * libp2p resolves only `dnsaddr` before a dial; a `/dns4/...` address goes to the transport as it is, and the
 * connection keeps the name as its remote address. A name says nothing of the network behind it, and the
 * IP-diversity filter groups a connected peer by that address: a peer announcing a name per identity passed the
 * filter unchecked (and a peer dialled by name counted as one of this peer's own network). Resolved here, every
 * such dial lands on an IP the filter can group.
 *
 * The name is resolved with the operating system's resolver (getaddrinfo: /etc/hosts, and `.local` names where the
 * system resolves them), as the transport's own connect would have. Secure WebSockets keep their name: TLS needs it
 * for the certificate.
 */
import { lookup } from 'node:dns/promises'
import type { AbortOptions, MultiaddrResolver } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'

/** The IP families each DNS protocol asks for (0: both). */
const FAMILIES: Record<string, 0 | 4 | 6> = { dns4: 4, dns6: 6, dns: 0 }

const NAME_NEEDED = new Set(['tls', 'sni', 'wss'])

export const dnsHostResolver = {
  canResolve(address: Multiaddr): boolean {
    const [first, ...rest] = address.getComponents()
    return first?.name != null && first.name in FAMILIES && !rest.some((c) => NAME_NEEDED.has(c.name))
  },

  /** The address at each IP of its name; none when the name does not resolve (that address alone fails). */
  async resolve(address: Multiaddr, options?: AbortOptions): Promise<Multiaddr[]> {
    const [first] = address.getComponents()
    if (first?.value == null) return []
    const head = `/${first.name}/${first.value}`
    const text = address.toString()
    if (!text.startsWith(head)) return [address]
    const tail = text.slice(head.length)
    try {
      options?.signal?.throwIfAborted()
      const found = await lookup(first.value, { all: true, family: FAMILIES[first.name] ?? 0 })
      return found.map(({ address: ip, family }) =>
        multiaddr(`/${family === 6 ? 'ip6' : 'ip4'}/${ip}${tail}`)
      )
    } catch {
      return []
    }
  }
} satisfies MultiaddrResolver
