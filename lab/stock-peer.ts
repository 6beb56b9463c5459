/**
 * The baseline: a stock @libp2p/kad-dht node with its default settings and the same transports as ours (TCP and
 * WebSockets, Noise, Yamux), records stored as they are in libp2p's default in-memory datastore.
 *
 * Only what a loopback lab cannot run without is set, and ours sets the same: server mode (a LAN swarm has no
 * AutoNAT to switch it on), keeping private addresses (the default mapper drops 127.0.0.1, so no peer could be
 * dialled), a validator and selector for the lab's key namespace (stock knows only /pk and /ipns), and the
 * connection manager's per-host inbound limits (which reset dials from 127.0.0.1 when many peers join at once).
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { MemoryDatastore } from 'datastore-core'
import { createLibp2p } from 'libp2p'
import { equals } from 'uint8arrays'
import { kadRoutingTable } from '../src/main/peer/routing-table-view.ts'
import { providerCid, recordKey } from '../src/main/peer/dht-keys.ts'
import { kadIdOfKey } from '../src/main/peer/kad-id.ts'
import { recordDatastoreKey } from '../src/main/peer/record-validation.ts'
import { QueryLog, traced } from '../src/main/peer/query-log.ts'
import { utf8 } from '../src/shared/bytes.ts'
import { failed, opSignal, travelled, type LabPeer } from './lab-peer.ts'
import type { ProvidersSample } from './lab-protocol.ts'

export const STOCK_PROTOCOL = '/swarm-lab-stock/kad/1.0.0'
const NAMESPACE = 'lab'

export async function startStockPeer(init: { host: string; bootstrap: string[] }): Promise<LabPeer> {
  // libp2p's default, made here so the lab can look into it (holds).
  const datastore = new MemoryDatastore()
  const node = await createLibp2p({
    datastore,
    addresses: { listen: [`/ip4/${init.host}/tcp/0`] },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: init.bootstrap.length > 0 ? [bootstrap({ list: init.bootstrap, timeout: 100 })] : [],
    connectionManager: { inboundConnectionThreshold: 300, maxIncomingPendingConnections: 100 },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: STOCK_PROTOCOL,
        clientMode: false,
        peerInfoMapper: passthroughMapper,
        validators: { [NAMESPACE]: async () => {} },
        selectors: { [NAMESPACE]: () => 0 }
      })
    }
  })
  const dht: KadDHT = node.services.dht
  const routing = kadRoutingTable(dht)
  const log = new QueryLog(() => {})
  const keyOf = (topic: string, key: string): Uint8Array => recordKey(NAMESPACE, topic, utf8.encode(key))

  return {
    id: node.peerId.toString(),
    addrs: () => node.getMultiaddrs().map(String),
    table: () => [...routing.kb.toIterable()].map((p) => p.peerId.toString()),
    connections: () => node.getConnections().length,
    async put(topic, key, value) {
      const started = performance.now()
      const dhtKey = keyOf(topic, key)
      const recorder = log.start('put', kadIdOfKey(dhtKey), topic, null)
      let stored = 0
      try {
        for await (const event of traced(recorder, dht.put(dhtKey, value, { signal: opSignal() }))) {
          if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE') stored++
        }
      } catch (err) {
        return failed(started, err)
      }
      return { ms: performance.now() - started, ok: stored > 0, ...travelled(recorder.trace.steps) }
    },
    async get(topic, key, expect) {
      const started = performance.now()
      const dhtKey = keyOf(topic, key)
      const recorder = log.start('get', kadIdOfKey(dhtKey), topic, null)
      let value: Uint8Array | null = null
      try {
        for await (const event of traced(recorder, dht.get(dhtKey, { signal: opSignal() }))) {
          if (event.name === 'VALUE') value = event.value
        }
      } catch (err) {
        return failed(started, err)
      }
      const ok = expect == null ? value == null : value != null && equals(value, expect)
      return { ms: performance.now() - started, ok, ...travelled(recorder.trace.steps) }
    },
    async provide(topic, key) {
      const started = performance.now()
      const cid = await providerCid(NAMESPACE, topic, utf8.encode(key))
      const recorder = log.start('provide', kadIdOfKey(cid.multihash.bytes), topic, null)
      let sent = 0
      try {
        for await (const event of traced(recorder, dht.provide(cid, { signal: opSignal() }))) {
          if (event.name === 'SEND_QUERY' && event.messageName === 'ADD_PROVIDER') sent++
        }
      } catch (err) {
        return failed(started, err)
      }
      return { ms: performance.now() - started, ok: sent > 0, ...travelled(recorder.trace.steps) }
    },
    async findProviders(topic, key, expect): Promise<ProvidersSample> {
      const started = performance.now()
      const cid = await providerCid(NAMESPACE, topic, utf8.encode(key))
      const recorder = log.start('find-providers', kadIdOfKey(cid.multihash.bytes), topic, null)
      const found: string[] = []
      let firstMs: number | null = null
      try {
        for await (const event of traced(recorder, dht.findProviders(cid, { signal: opSignal() }))) {
          if (event.name !== 'PROVIDER') continue
          for (const provider of event.providers) {
            const id = provider.id.toString()
            if (found.includes(id)) continue
            found.push(id)
            if (firstMs == null && expect.includes(id)) firstMs = performance.now() - started
          }
        }
      } catch (err) {
        return { ...failed(started, err), firstMs, found }
      }
      return {
        ms: performance.now() - started,
        ok: expect.every((id) => found.includes(id)),
        ...travelled(recorder.trace.steps),
        firstMs,
        found
      }
    },
    // Stock republishes nothing on demand: records live until they expire, provider records are re-announced by its
    // reprovider near their expiry.
    republish: async () => {},
    holds: async (topic, key) => datastore.has(recordDatastoreKey(keyOf(topic, key))),
    stop: async () => {
      await node.stop()
    }
  }
}
