/**
 * A lab peer running our DHT: a SwarmPeer exactly as `serve` and the desktop app start it (LevelDB on disk, signed
 * records, our lookups), driven through its contract handlers — the same objects the HTTP API serves.
 */
import { equals } from 'uint8arrays'
import { SwarmPeer } from '../src/main/peer/swarm-peer.ts'
import { kadRoutingTable } from '../src/main/peer/routing-table-view.ts'
import { utf8 } from '../src/shared/bytes.ts'
import { failed, opSignal, travelled, type LabPeer } from './lab-peer.ts'
import type { LookupSample, ProvidersSample } from './lab-protocol.ts'

export const LAB_PASSPHRASE = 'swarm lab passphrase'

export interface OursPeerInit {
  dataDir: string
  host: string
  bootstrap: string[]
  republishIntervalMs?: number
  kBucketSize?: number
}

export async function startOursPeer(init: OursPeerInit): Promise<LabPeer> {
  const peer = await SwarmPeer.start({
    dataDir: init.dataDir,
    passphrase: LAB_PASSPHRASE,
    listen: [`/ip4/${init.host}/tcp/0`],
    bootstrap: init.bootstrap,
    mdns: false,
    quic: false,
    ...(init.kBucketSize != null ? { kBucketSize: init.kBucketSize } : {}),
    ...(init.republishIntervalMs != null
      ? { republishIntervalMs: init.republishIntervalMs, reprovideIntervalMs: init.republishIntervalMs }
      : {})
  })
  const routing = kadRoutingTable(peer.node.services.dht)
  const sample = (started: number, ok: boolean, queryId: string): LookupSample => ({
    ms: performance.now() - started,
    ok,
    ...travelled(peer.queryTrace(queryId)?.steps ?? [])
  })

  return {
    id: peer.peerId.toString(),
    addrs: () => peer.node.getMultiaddrs().map(String),
    table: () => [...routing.kb.toIterable()].map((p) => p.peerId.toString()),
    connections: () => peer.node.getConnections().length,
    async put(topic, key, value) {
      const started = performance.now()
      try {
        const { queryId, accepted } = await peer.putRecord(
          { topic, key: utf8.encode(key), value },
          { signal: opSignal() }
        )
        return sample(started, accepted > 0, queryId)
      } catch (err) {
        return failed(started, err)
      }
    },
    async get(topic, key, expect) {
      const started = performance.now()
      try {
        const { record, queryId } = await peer.getRecord(
          { topic, key: utf8.encode(key) },
          { signal: opSignal() }
        )
        const ok = expect == null ? record == null : record != null && equals(record.value, expect)
        return sample(started, ok, queryId)
      } catch (err) {
        return failed(started, err)
      }
    },
    async provide(topic, key) {
      const started = performance.now()
      try {
        const { queryId, sentTo } = await peer.provide(
          { topic, key: utf8.encode(key) },
          { signal: opSignal() }
        )
        return sample(started, sentTo > 0, queryId)
      } catch (err) {
        return failed(started, err)
      }
    },
    async findProviders(topic, key, expect): Promise<ProvidersSample> {
      const started = performance.now()
      const found: string[] = []
      let firstMs: number | null = null
      try {
        for await (const provider of peer.getProviders(
          { topic, key: utf8.encode(key) },
          { signal: opSignal() }
        )) {
          found.push(provider.peerId)
          if (firstMs == null && expect.includes(provider.peerId)) firstMs = performance.now() - started
        }
      } catch (err) {
        return { ...failed(started, err), firstMs, found }
      }
      const trace = peer.lastQuery('find-providers')
      return {
        ms: performance.now() - started,
        ok: expect.every((id) => found.includes(id)),
        ...travelled(trace?.steps ?? []),
        firstMs,
        found
      }
    },
    republish: () => peer.republish(),
    async holds(topic, key) {
      const wanted = utf8.encode(key)
      return (await peer.records({ topic }, {})).some((r) => equals(r.key, wanted))
    },
    stop: () => peer.stop()
  }
}
