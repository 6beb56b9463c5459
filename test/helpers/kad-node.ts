/**
 * A stock kad-dht node for tests that need a peer that is not ours: over TCP, Noise and Yamux, in server mode, with
 * no self-lookup (a test's swarm is too small for one to mean anything).
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { kadDHT, type KadDHT, type KadDHTInit } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp, type TCPSocketOptions } from '@libp2p/tcp'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { TcpNetConnectOpts } from 'node:net'

export interface KadNodeInit {
  /** The address it listens on; its TCP dials also leave from it, so a peer sees it connect from there. */
  ip: string
  /** kad-dht's protocol. */
  protocol: string
  /** What it announces, given its real addresses. */
  announceFilter?: (real: Multiaddr[]) => Multiaddr[]
  /** Added to kad-dht's settings. */
  dht?: Partial<KadDHTInit>
}

export async function kadNode(init: KadNodeInit): Promise<Libp2p<{ dht: KadDHT }>> {
  const dialOpts: TCPSocketOptions & Pick<TcpNetConnectOpts, 'localAddress'> = { localAddress: init.ip }
  return createLibp2p({
    addresses: {
      listen: [`/ip4/${init.ip}/tcp/0`],
      ...(init.announceFilter != null ? { announceFilter: init.announceFilter } : {})
    },
    transports: [tcp({ dialOpts })],
    // Many peers of a test dial from one address: libp2p's per-host inbound limit would reset them.
    connectionManager: { inboundConnectionThreshold: 300, maxIncomingPendingConnections: 100 },
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: init.protocol,
        clientMode: false,
        initialQuerySelfInterval: 3_600_000,
        ...init.dht
      })
    }
  })
}
