/**
 * An IP-diversity filter for the routing table, after go-libp2p's peerdiversity filter (stock js kad-dht has none).
 *
 * A Sybil attacker can mint identities for free but not addresses: many identities from one address range try to fill
 * an honest peer's table so that its lookups go through them. The filter groups peers by network prefix (/16 for IPv4
 * and /32 for IPv6 by default, as go-libp2p does; DNS names by domain, see `addressGroup`) and admits at most
 * `maxPerGroup` peers of one group into the table. Private, loopback and link-local addresses are exempt unless
 * `includePrivate` is set: a swarm of robots on one LAN shares one subnet, and filtering it would cripple the swarm.
 *
 * A peer's group is that of the remote address of its open connection, as in go-libp2p: a peer cannot choose it (an
 * inbound connection comes from where the peer is, an outbound one reached it there), while the addresses it announces
 * are whatever it writes. Only a peer this one has no connection to that enters on another peer's word (named in the
 * answer of a peer of its own network, see `hearsay`; any other is dialled before it enters, and placed by that
 * connection) is grouped by the addresses it announces; when a connection to it opens later, the peer is grouped again
 * by it (exempt, if it comes from a private address), and removed from the table if that group is full.
 *
 * It wraps kad-dht's `routingTable.add` (the one door every new peer comes through), checked at start-up like the
 * other reads of kad-dht internals.
 */
import type { KadDHT } from '@libp2p/kad-dht'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { isPrivateIp } from '@libp2p/utils'
import { kadRoutingTable } from './routing-table-view.ts'
import { TRUSTED_HEARSAY, type Hearsay } from './hearsay.ts'

export interface IpDiversityOptions {
  /** Peers of one address group the table may hold. */
  maxPerGroup: number
  /** Prefix length that makes an IPv4 group. */
  ipv4Prefix: number
  /** Prefix length that makes an IPv6 group. */
  ipv6Prefix: number
  /** Group private and loopback addresses too (for tests, and swarms whose peers all sit on public addresses). */
  includePrivate: boolean
}

export const DEFAULT_IP_DIVERSITY: IpDiversityOptions = {
  maxPerGroup: 3,
  ipv4Prefix: 16,
  ipv6Prefix: 32,
  includePrivate: false
}

/**
 * The group of an address: "ip4/cb00/16" by its IP's prefix, "name/example.com" by the last two labels of a DNS
 * name; null when the address is exempt (a private IP, or a name of this network: `localhost`, `.local`, a single
 * label) or carries neither. A connection dialled by name keeps the name as its remote address (libp2p resolves only
 * `dnsaddr` before a dial), so a name must be grouped too: exempt, a peer announcing a name per identity would pass
 * unchecked. Grouped by domain, each group costs an attacker a domain, as each IP group costs a range.
 */
export function addressGroup(address: Multiaddr, options: IpDiversityOptions): string | null {
  const name = nameOf(address)
  if (name != null) {
    const labels = name.toLowerCase().replace(/\.$/, '').split('.')
    if (!options.includePrivate && (labels.length < 2 || LOCAL_NAMES.has(labels.at(-1)!))) return null
    return `name/${labels.slice(-2).join('.')}`
  }
  const ip = ipOf(address)
  if (ip == null) return null
  if (!options.includePrivate && isPrivateIp(ip.value) !== false) return null
  if (ip.family === 4) {
    const bits = ip.value.split('.').reduce((n, octet) => (n << 8n) | BigInt(Number(octet)), 0n)
    return `ip4/${prefixOf(bits, 32, options.ipv4Prefix)}/${options.ipv4Prefix}`
  }
  const bits = expandIpv6(ip.value)
  // An IPv6 form this cannot read shares one group: never exempt.
  return bits == null ? 'ip6/unread' : `ip6/${prefixOf(bits, 128, options.ipv6Prefix)}/${options.ipv6Prefix}`
}

/** Top-level names that only mean something on this machine or its LAN (mDNS, RFC 6761 and 8375). */
const LOCAL_NAMES = new Set(['localhost', 'local', 'internal', 'lan', 'home', 'arpa'])

/** The DNS name an address starts with, if any. */
function nameOf(address: Multiaddr): string | null {
  const [first] = address.getComponents()
  if (first?.value == null || !['dns', 'dns4', 'dns6', 'dnsaddr'].includes(first.name)) return null
  return first.value
}

/**
 * The IP an address starts with (after an IPv6 zone), if any. An IPv4-mapped IPv6 address (::ffff:808:808, how a
 * dual-stack socket sees an IPv4 peer) and a DNS64 one (64:ff9b::/96, how an IPv6-only network reaches one) are
 * the IPv4 address they carry: read as IPv6, every IPv4 peer would share one group.
 */
function ipOf(address: Multiaddr): { family: 4 | 6; value: string } | null {
  const components = address.getComponents()
  const first = components[0]?.name === 'ip6zone' ? components[1] : components[0]
  if (first?.value == null) return null
  if (first.name === 'ip4') return { family: 4, value: first.value }
  if (first.name !== 'ip6') return null
  const bits = expandIpv6(first.value)
  if (bits != null && (bits >> 32n === 0xffffn || bits >> 32n === NAT64_PREFIX)) {
    const octets = [24n, 16n, 8n, 0n].map((shift) => String((bits >> shift) & 0xffn))
    return { family: 4, value: octets.join('.') }
  }
  return { family: 6, value: first.value }
}

/** 64:ff9b::/96, the well-known NAT64 prefix, as the top 96 bits of an address. */
const NAT64_PREFIX = 0x64ff9bn << 64n

/** Whether an address goes through a relay (its IP is the relay's, not the peer's). */
const relayed = (address: Multiaddr): boolean => address.getComponents().some((c) => c.name === 'p2p-circuit')

/** What the filter reads of the libp2p node: the addresses peers announce, and the connections open to them. */
export type PeerAddressSource = Pick<Libp2p, 'peerStore' | 'getConnections' | 'addEventListener'>

const prefixOf = (bits: bigint, width: number, prefix: number): string =>
  (bits >> BigInt(width - prefix)).toString(16)

function expandIpv6(text: string): bigint | null {
  const [head = '', tail] = text.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail == null || tail === '' ? [] : tail.split(':')
  if (right.at(-1)?.includes('.') === true || left.at(-1)?.includes('.') === true) return null
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
  if (groups.length !== 8) return null
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g || '0', 16)), 0n)
}

export class IpDiversityFilter {
  /** Peers held (or being added) per group. */
  private readonly members = new Map<string, Set<string>>()
  private readonly groupOf = new Map<string, string>()
  /**
   * Adds under way, per peer: an add may open a connection (a contact that is neither connected nor vouched for is
   * dialled before it goes into its bucket), so the peer's group is settled when the add ends, not while it runs.
   */
  private readonly adding = new Map<string, number>()
  private readonly table: ReturnType<typeof kadRoutingTable>
  /**
   * Times a peer was turned away (at the door, or out of the table when a connection put it in a full group); one
   * peer that keeps trying counts each time.
   */
  refused = 0

  constructor(
    dht: KadDHT,
    private readonly node: PeerAddressSource,
    private readonly options: IpDiversityOptions,
    /**
     * Whether a peer with no connection enters on another peer's word, undialled (the table crawler's vouch, see
     * contact-check.ts): only such a peer is placed by the addresses it announces.
     */
    private readonly vouchedFor: (peerId: PeerId) => boolean
  ) {
    const table = kadRoutingTable(dht)
    this.table = table
    const add = table.add.bind(table)
    table.add = async (peerId, addOptions) => {
      const id = peerId.toString()
      this.adding.set(id, (this.adding.get(id) ?? 0) + 1)
      try {
        if ((await this.admit(peerId)) === false) return
        await add(peerId, addOptions)
      } finally {
        const left = (this.adding.get(id) ?? 1) - 1
        if (left > 0) this.adding.set(id, left)
        else this.adding.delete(id)
        // Not in the table after all (it did not answer, or its bucket was full): its place is freed; in it, and
        // connected from another group than the one it was let in by: moved, or out.
        await this.reconcile(peerId).catch(() => {})
      }
    }
    // The contact check (contact-check.ts, which this wraps: built after it) may dial a new contact, and the
    // connection it opens decides the group before the contact goes into its bucket.
    const verify = table.kb.verify.bind(table.kb)
    table.kb.verify = async (contact, verifyOptions) =>
      (await verify(contact, verifyOptions)) && (await this.mayEnter(contact.peerId))
    // Nothing can change for a peer that holds no place and has no grouped connection (every connection of a LAN
    // swarm): that skips the table lookup on each connection and removal.
    const settle = (peerId: PeerId): void => {
      if (!this.groupOf.has(peerId.toString()) && this.connectionGroup(peerId) == null) return
      void this.reconcile(peerId).catch(() => {})
    }
    // kad-dht announces a removal after an await, in which the peer may have come back: checked, not assumed.
    table.addEventListener('peer:remove', (event) => settle(event.detail))
    node.addEventListener('connection:open', (event) => settle(event.detail.remotePeer))
  }

  /**
   * Of `peers` (nearest first), those the table's door would let in together as far as diversity goes (bucket space
   * is not its concern), without taking a place for any: peers it holds or is adding, exempt ones, and per group only
   * as many newcomers as the group has room for, the first ones. A republish writes to the closest peers its walk
   * found even when the table did not take them (a full bucket), but not to more of one address group than the table
   * would hold: checked one peer at a time, each would pass alone, and one group could take every replica of a key.
   */
  async admitted(peers: PeerId[]): Promise<PeerId[]> {
    const groups = await Promise.all(
      peers.map(async (peerId) => (this.groupOf.has(peerId.toString()) ? null : this.groupOfPeer(peerId)))
    )
    const newcomers = new Map<string, number>()
    return peers.filter((_, i) => {
      const group = groups[i]
      if (group == null) return true
      const before = newcomers.get(group) ?? 0
      if (before >= this.room(group)) return false
      newcomers.set(group, before + 1)
      return true
    })
  }

  /**
   * How much of a peer's answer the table crawler takes. A peer connected from an address the filter exempts
   * (private, loopback or link-local) is one of this peer's own network: the peers it names enter undialled, at
   * every address it gives. Any other peer's word vouches for nobody: the peers it names are dialled before they
   * enter (their announced addresses are the only group the filter would have for them, and those are whatever the
   * namer wrote), and only at IP addresses the filter groups: a private address a stranger names is of its network,
   * not this one's, and a name a stranger gives resolves wherever its DNS says (this peer's LAN, say).
   */
  hearsay(namer: PeerId): Hearsay {
    if (this.connectionGroup(namer) === null) return TRUSTED_HEARSAY
    return {
      vouches: false,
      keeps: (address) => ipOf(address) != null && addressGroup(address, this.options) != null
    }
  }

  /** How many more peers of a group the table may take. */
  private room(group: string): number {
    return this.options.maxPerGroup - (this.members.get(group)?.size ?? 0)
  }

  /**
   * A peer's group (null: exempt): its open connection's when there is one (the first whose address is grouped),
   * otherwise the first grouped address it announces.
   */
  private async groupOfPeer(peerId: PeerId): Promise<string | null> {
    const connected = this.connectionGroup(peerId)
    return connected !== undefined ? connected : this.announcedGroup(peerId)
  }

  /** The group of a direct connection open to the peer; null when each is exempt, undefined when there is none. */
  private connectionGroup(peerId: PeerId): string | null | undefined {
    const direct = this.node
      .getConnections(peerId)
      .filter((c) => c.status === 'open' && !relayed(c.remoteAddr))
    if (direct.length === 0) return undefined
    return direct.map((c) => addressGroup(c.remoteAddr, this.options)).find((g) => g != null) ?? null
  }

  /** The group of the address a peer announces; null when it announces no filtered address (only private ones, say). */
  private async announcedGroup(peerId: PeerId): Promise<string | null> {
    const peer = await this.node.peerStore.get(peerId).catch(() => null)
    const groups = (peer?.addresses ?? []).map((a) => addressGroup(a.multiaddr, this.options))
    return groups.find((g) => g != null) ?? null
  }

  /** The peer's group when it may join (null: exempt), false when its group is full (a refusal, counted). */
  private async admit(peerId: PeerId): Promise<string | null | false> {
    const id = peerId.toString()
    const known = this.groupOf.get(id)
    if (known != null) return known
    // A contact with no connection that nobody vouched for is dialled by the contact check before it enters, and
    // placed by that connection (`mayStay`, in verify). Placed now by what it announces, made-up peers a stranger
    // named would hold an honest group's places while their dials ran, and honest peers of that group added
    // meanwhile would be turned away.
    if (this.connectionGroup(peerId) === undefined && !this.vouchedFor(peerId)) return null
    const group = await this.groupOfPeer(peerId)
    // Another add of the same peer may have placed it meanwhile.
    const placed = this.groupOf.get(id)
    if (placed != null) return placed
    if (group == null) return null
    return this.claim(group, id) ? group : false
  }

  /**
   * Brings a peer's place in line with the table and its connections, once no add of it is under way (that add's end
   * does it): a peer the table does not hold has none; one it holds stays only as far as `mayStay` allows. Without
   * this, a Sybil let in by announcing a distant address would stay in, and be asked, over the connection it opens
   * from its own range.
   */
  private async reconcile(peerId: PeerId): Promise<void> {
    const id = peerId.toString()
    if (this.adding.has(id)) return
    const held = (await this.table.find(peerId).catch(() => undefined)) != null
    if (this.adding.has(id)) return
    if (!held) this.release(id)
    else if (!this.mayStay(peerId)) await this.table.remove(peerId).catch(() => {})
  }

  /**
   * Whether a contact that passed the contact check may enter. One with a grouped connection, a place, or a vouch is
   * settled by `mayStay`. One proven some other way, with none of those (a relayed connection, or one that closed
   * since its dial), is placed by what it announces, as a vouched peer is; without this it would enter holding no
   * place at all.
   */
  private async mayEnter(peerId: PeerId): Promise<boolean> {
    const id = peerId.toString()
    if (this.connectionGroup(peerId) !== undefined || this.groupOf.has(id) || this.vouchedFor(peerId)) {
      return this.mayStay(peerId)
    }
    const group = await this.announcedGroup(peerId)
    // Placed meanwhile (by another add, or a connection that opened).
    if (this.groupOf.has(id) || this.connectionGroup(peerId) !== undefined) return this.mayStay(peerId)
    return group == null || this.claim(group, id)
  }

  /**
   * Whether a peer placed by what it announced (or by an earlier connection) may stay now that it is connected: it
   * moves to its connection's group, or out of any group when that connection is exempt (a private address, as if
   * it had connected first); false, and no place, when that group is full. Unchanged when it has no connection.
   */
  private mayStay(peerId: PeerId): boolean {
    const id = peerId.toString()
    const group = this.connectionGroup(peerId)
    if (group === undefined || group === this.groupOf.get(id)) return true
    this.release(id)
    return group === null || this.claim(group, id)
  }

  /** Takes a place in `group` for the peer when the group has room; counts a refusal when it has none. */
  private claim(group: string, id: string): boolean {
    if (this.room(group) <= 0) {
      this.refused++
      return false
    }
    this.take(group, id)
    return true
  }

  private take(group: string, id: string): void {
    this.release(id)
    const members = this.members.get(group) ?? new Set<string>()
    members.add(id)
    this.members.set(group, members)
    this.groupOf.set(id, group)
  }

  private release(id: string): void {
    const group = this.groupOf.get(id)
    if (group == null) return
    this.groupOf.delete(id)
    this.members.get(group)?.delete(id)
  }
}
