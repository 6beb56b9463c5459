/**
 * Assembles the libp2p node: transports, encryption, muxing, discovery and services. Nothing here knows about
 * topics or records; that is swarm-peer.ts.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { bootstrap } from '@libp2p/bootstrap'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper, type KadDHT, type SelectFn, type ValidateFn } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p, type Libp2p, type Libp2pOptions } from 'libp2p'
import type { Identify } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import type { Datastore } from 'interface-datastore'
import { yamuxWithLiveness } from './connection-liveness.ts'
import {
  type ConnectionIdentities,
  IDENTIFY_DELAY_MS,
  identifyAfterOpen,
  ownDialsToTablePeers
} from './deferred-identify.ts'
import { kadIdOfPeer } from './kad-id.ts'
import { kadRoutingTable } from './routing-table-view.ts'

export type SwarmServices = { dht: KadDHT; identify: Identify; ping: Ping }
export type SwarmLibp2p = Libp2p<SwarmServices>

export interface Libp2pNodeInit {
  privateKey: PrivateKey
  datastore: Datastore
  listen: string[]
  bootstrap: string[]
  mdns: boolean
  /** Try to load the QUIC transport (a native module); skipped with a note when it does not load. */
  quic: boolean
  protocol: string
  namespace: string
  validate: ValidateFn
  select: SelectFn
  agent: string
  kBucketSize: number
  maxConnections: number
  reprovideIntervalMs: number
  /** How often kad-dht looks itself up (the first time included). */
  querySelfIntervalMs: number
  /** A private swarm's key file (canonical form): only peers with the same key can connect. */
  swarmKey: Uint8Array | null
}

export interface Libp2pNodeBuild {
  node: SwarmLibp2p
  transports: string[]
  notes: string[]
  /** Identify's runs per connection, for the routing table view (deferred-identify.ts). */
  identities: ConnectionIdentities
}

/**
 * A dead connection is aborted 20-30 s after the last thing it received (a round may be spared by what came just before
 * it; libp2p's connection monitor took 10-20 s, at twice the pings).
 */
const LIVENESS = { intervalMs: 10_000, timeoutMs: 10_000 }

type TransportFactory = NonNullable<Libp2pOptions['transports']>[number]

async function loadQuic(): Promise<TransportFactory> {
  const { quic } = await import('@chainsafe/libp2p-quic')
  return quic()
}

export async function createLibp2pNode(init: Libp2pNodeInit): Promise<Libp2pNodeBuild> {
  const notes: string[] = []
  const transports: TransportFactory[] = [tcp(), webSockets()]
  const transportNames = ['tcp', 'websockets']
  let listen = init.listen
  if (init.quic) {
    try {
      transports.push(await loadQuic())
      transportNames.push('quic')
    } catch (err) {
      notes.push(`QUIC disabled: its native module did not load (${(err as Error).message})`)
    }
  }
  if (!transportNames.includes('quic')) {
    const withoutQuic = listen.filter((a) => !a.includes('/quic'))
    if (withoutQuic.length !== listen.length) notes.push('QUIC listen addresses skipped')
    listen = withoutQuic
  }

  const peerDiscovery: NonNullable<Libp2pOptions['peerDiscovery']> = []
  if (init.bootstrap.length > 0) peerDiscovery.push(bootstrap({ list: init.bootstrap, timeout: 100 }))
  // The service name is derived from the protocol so that swarms with different settings do not find each other.
  if (init.mdns)
    peerDiscovery.push(mdns({ serviceTag: `swarm-inspector-${init.namespace}.local`, interval: 5_000 }))

  const node = await createLibp2p({
    privateKey: init.privateKey,
    datastore: init.datastore,
    start: false,
    addresses: { listen },
    transports,
    connectionEncrypters: [noise()],
    ...(init.swarmKey != null ? { connectionProtector: preSharedKey({ psk: init.swarmKey }) } : {}),
    streamMuxers: [yamuxWithLiveness(LIVENESS)],
    // Replaced by yamux PING frames (connection-liveness.ts): the same check at a fraction of the CPU.
    connectionMonitor: { enabled: false },
    peerDiscovery,
    nodeInfo: { userAgent: init.agent },
    connectionManager: {
      maxConnections: init.maxConnections,
      // A swarm on one LAN (or one machine in tests) opens many connections from the same host at once; the
      // default per-host rate limit of 5/s resets them (seen at ~30 peers on 127.0.0.1).
      inboundConnectionThreshold: Math.max(100, init.maxConnections),
      maxIncomingPendingConnections: 100
    },
    services: {
      // Run a moment after a connection opens, not with its first request (deferred-identify.ts).
      identify: identify({ runOnConnectionOpen: false }),
      ping: ping(),
      dht: kadDHT({
        protocol: init.protocol,
        clientMode: false,
        kBucketSize: init.kBucketSize,
        // Swarm peers sit on LANs and loopback: keep private addresses (stock drops them).
        peerInfoMapper: passthroughMapper,
        // A lone first robot must still be able to put (records then replicate as peers join).
        allowQueryWithZeroPeers: true,
        validators: { [init.namespace]: init.validate },
        selectors: { [init.namespace]: init.select },
        reprovide: { interval: init.reprovideIntervalMs },
        // kad-dht looks itself up a second after start (and every 5 minutes), an iterative lookup that dials the
        // twenty-odd peers nearest its id. The table crawler does that job (see table-crawler.ts) over connections
        // it already has; a hundred peers starting together each dialling twenty more kept two cores saturated.
        initialQuerySelfInterval: init.querySelfIntervalMs,
        querySelfInterval: init.querySelfIntervalMs
      })
    }
  })
  const table = kadRoutingTable(node.services.dht)
  const identities = identifyAfterOpen(
    node,
    node.services.identify,
    // A peer with an empty table is joining, and its crawl starts from its first entry, which identify brings.
    () => (table.size === 0 ? 0 : IDENTIFY_DELAY_MS),
    ownDialsToTablePeers((peer) => table.kb.get(kadIdOfPeer(peer)) != null)
  )
  return { node: node as SwarmLibp2p, transports: transportNames, notes, identities }
}
