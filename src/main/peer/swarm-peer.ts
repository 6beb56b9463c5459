/**
 * The swarm peer: a libp2p node with kad-dht, serving the seed's DHT service (topics, signed records, providers)
 * and the inspection API. It implements every method of the shared contract (`PeerApiHandlers`), so the HTTP
 * server, the Electron IPC registrar and tests all call the same object. Imports nothing from Electron.
 */
import { Record as DhtRecord, type QueryEvent } from '@libp2p/kad-dht'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { pushable } from 'it-pushable'
import { queueIterable } from '../../shared/queue-iterable.ts'
import { createHash } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { equals, fromString, toString } from 'uint8arrays'
import type { Connection, PeerId, PrivateKey } from '@libp2p/interface'
import type { ApiParsedInput, CallOptions, PeerServiceHandlers } from '../../shared/api-contract.ts'
import { displayKey } from '../../shared/bytes.ts'
import { InvalidInputError, LookupError, NotFoundError } from '../../shared/errors.ts'
import type { PeerEvent } from '../../shared/events.ts'
import {
  DEFAULT_DHT_PROTOCOL,
  DEFAULT_LIMITS,
  DEFAULT_NAMESPACE,
  PUBLIC_IPFS_DHT_PROTOCOLS,
  type RecordLimits
} from '../../shared/swarm-defaults.ts'
import { checkKey, checkTopic, checkValue } from '../../shared/topic-key.ts'
import { DEFAULT_LISTEN } from '../../shared/swarm-settings.ts'
import type {
  ConnectionInfo,
  ProviderEntryView,
  ProviderFound,
  ProviderKeyView,
  ProviderRecordsView,
  QueryKind,
  QueryTrace,
  StoredRecordView
} from '../../shared/views.ts'
import { Bookkeeping, type TopicKey } from './bookkeeping.ts'
import { multihashKey, parseRecordKey, providerCid, recordKey } from './dht-keys.ts'
import { loadOrCreateIdentity } from './identity.ts'
import { avoidTakenPorts } from './port-conflicts.ts'
import { parseSwarmKey } from './swarm-key.ts'
import { checkProviderReplicas, checkRecordReplicas } from './replication-check.ts'
import type { WalkInit } from './closest-walk.ts'
import { kadIdOfKey } from './kad-id.ts'
import { createLibp2pNode, type SwarmLibp2p } from './libp2p-node.ts'
import { withPeerStoreCache, type PeerStoreCache } from './peer-store-cache.ts'
import { cachePeerInfo } from './peer-info-cache.ts'
import { useFastClosestPeers } from './closest-peers.ts'
import { QueryLog, traced } from './query-log.ts'
import { compareRecords, decodeRecord, openRecord, sealRecord, type SignedRecord } from './record-envelope.ts'
import { createRecordRules, recordDatastoreKey } from './record-validation.ts'
import { RoutingTableView, kadRoutingTable } from './routing-table-view.ts'
import { ClockSkews, READ_AFTER_OPEN_MS as CLOCK_READ_AFTER_OPEN_MS, serveClock } from './clock-skew.ts'
import { afterOpen, type ConnectionIdentities } from './deferred-identify.ts'
import { OneRoundLookups, PUT_QUORUM } from './one-round-lookups.ts'
import { TableCrawler } from './table-crawler.ts'
import { DEFAULT_TABLE_MESH, TableMesh, type TableMeshOptions } from './table-mesh.ts'
import { TRUSTED_HEARSAY } from './hearsay.ts'
import { DhtRequestStreams } from './dht-request-streams.ts'
import { checkContactsByConnection } from './contact-check.ts'
import { DEFAULT_IP_DIVERSITY, IpDiversityFilter, type IpDiversityOptions } from './ip-diversity.ts'
import { DHT_PREFIX, Key, SwarmDatastore } from './swarm-datastore.ts'
import { varintTime } from './varint-time.ts'

export interface SwarmPeerInit {
  /** Holds identity.key and the LevelDB datastore. */
  dataDir: string
  /** Encrypts the identity at rest (at least 8 characters). */
  passphrase: string
  /** @default DEFAULT_LISTEN: all interfaces, TCP 4101, WebSockets 4102, QUIC 4101/udp */
  listen?: string[]
  /** Multiaddrs (with /p2p/<id>) dialled at start and kept connected. @default [] */
  bootstrap?: string[]
  /** Find peers on the local network by multicast DNS. @default true */
  mdns?: boolean
  /** Load the QUIC transport when its native module is available. @default true */
  quic?: boolean
  /** DHT protocol id; every peer of one swarm uses the same. @default DEFAULT_DHT_PROTOCOL */
  protocol?: string
  /** Record key namespace. @default DEFAULT_NAMESPACE */
  namespace?: string
  limits?: Partial<RecordLimits>
  /** How often records this node put are republished. @default 1 hour */
  republishIntervalMs?: number
  /** How often provider records are checked for reproviding (kad-dht reprovider). @default 1 hour */
  reprovideIntervalMs?: number
  /** How often the table crawler crawls the keyspace again (and kad-dht looks itself up). @default 10 minutes */
  tableRefreshMs?: number
  /**
   * At most so many routing-table peers per address range (public addresses by default); null turns it off.
   * @default DEFAULT_IP_DIVERSITY
   */
  ipDiversity?: IpDiversityOptions | null
  /**
   * Keeps a connection open to every routing-table peer while the table holds at most `maxPeers` (table-mesh.ts);
   * null turns it off. @default DEFAULT_TABLE_MESH
   */
  tableMesh?: Partial<TableMeshOptions> | null
  /** Peers per k-bucket. @default 20 */
  kBucketSize?: number
  /** @default 300 */
  maxConnections?: number
  /** @default "swarm-inspector/<version>" */
  agent?: string
  /** A private swarm's pre-shared key (swarm.key text); null or absent: an open swarm. */
  swarmKey?: string | null
}

export const AGENT = 'swarm-inspector/0.1.0'

/** An options object without its undefined fields, so that spreading it over defaults keeps them. */
const definedOnly = <T extends object>(options: T): Partial<T> =>
  Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>

const MINUTE = 60_000
const HOUR = 60 * MINUTE

export class SwarmPeer implements PeerServiceHandlers {
  readonly notes: string[]
  /** The swarm key's fingerprint when this is a private swarm. */
  privateSwarm: string | null = null
  private readonly listeners = new Set<(event: PeerEvent) => void>()
  private readonly queryLog = new QueryLog((event) => this.emit(event))
  private readonly routing: RoutingTableView
  private readonly clocks: ClockSkews
  private readonly verdicts = new Map<string, 'valid' | 'invalid'>()
  private readonly bookkeeping: Bookkeeping
  private readonly shutdown = new AbortController()
  private readonly crawler: TableCrawler
  private readonly mesh: TableMesh | null
  private readonly lookups: OneRoundLookups
  /** The crawler's and the one-round lookups' requests, over streams kept open between them. */
  private readonly requests: DhtRequestStreams
  /** Keeps any one address range from filling the routing table (null when turned off). */
  readonly diversity: IpDiversityFilter | null
  private republishTimer: NodeJS.Timeout | undefined
  private readonly startedAt = Date.now()
  private stopping: Promise<void> | undefined

  private constructor(
    readonly node: SwarmLibp2p,
    private readonly privateKey: PrivateKey,
    private readonly datastore: SwarmDatastore,
    private readonly peerStore: PeerStoreCache<SwarmDatastore>,
    private readonly settings: Required<Omit<SwarmPeerInit, 'passphrase' | 'limits' | 'tableMesh'>> & {
      limits: RecordLimits
      tableMesh: TableMeshOptions | null
    },
    readonly transports: string[],
    notes: string[],
    identities: ConnectionIdentities
  ) {
    this.notes = notes
    this.clocks = new ClockSkews(this.shutdown.signal, {
      onReading: (peerId, { skewMs, rttMs, at }) =>
        this.emit({ type: 'clock:read', peerId, skewMs, rttMs, at })
    })
    this.routing = new RoutingTableView(node, settings.protocol, this.clocks, identities)
    this.bookkeeping = new Bookkeeping(datastore)
    const connected = (peerId: PeerId): boolean =>
      node.getConnections(peerId).some((c) => c.status === 'open')
    // kad-dht reads the 20 closest peers from the peer store for every answer it gives.
    cachePeerInfo(node.peerStore, node)
    this.requests = new DhtRequestStreams(node, settings.protocol)
    this.crawler = new TableCrawler(
      node.services.dht,
      this.requests,
      node.peerId,
      node.peerStore,
      this.shutdown.signal,
      settings.tableRefreshMs,
      connected,
      (namer) => {
        if (settings.ipDiversity == null) return TRUSTED_HEARSAY
        // Built below, after the contact check it wraps; the crawler only asks once the peer has started.
        if (this.diversity == null) throw new Error('the IP-diversity filter is not built yet')
        return this.diversity.hearsay(namer)
      }
    )
    checkContactsByConnection(
      node.services.dht,
      node,
      this.shutdown.signal,
      (peerId) => connected(peerId) || this.crawler.vouches(peerId)
    )
    useFastClosestPeers(node.services.dht)
    // After the contact check: the filter wraps it (a check that dials a contact learns where it really is).
    this.diversity =
      settings.ipDiversity != null
        ? new IpDiversityFilter(node.services.dht, node, settings.ipDiversity, (peerId) =>
            this.crawler.vouches(peerId)
          )
        : null
    this.mesh =
      settings.tableMesh != null
        ? new TableMesh(
            node,
            kadRoutingTable(node.services.dht),
            connected,
            this.shutdown.signal,
            {
              ...settings.tableMesh,
              maxPeers: Math.min(settings.tableMesh.maxPeers, settings.maxConnections / 2)
            },
            () => this.crawler.crawled
          )
        : null
    this.lookups = new OneRoundLookups(
      node.services.dht,
      node.peerId,
      this.requests,
      datastore,
      () => this.crawler.crawled,
      connected,
      async (peers) => this.diversity?.admitted(peers) ?? peers
    )
  }

  /** Creates the data directory, identity and datastore, then starts the node. */
  static async start(init: SwarmPeerInit): Promise<SwarmPeer> {
    const settings = {
      dataDir: init.dataDir,
      listen: init.listen ?? DEFAULT_LISTEN,
      bootstrap: init.bootstrap ?? [],
      mdns: init.mdns ?? true,
      quic: init.quic ?? true,
      protocol: init.protocol ?? DEFAULT_DHT_PROTOCOL,
      namespace: init.namespace ?? DEFAULT_NAMESPACE,
      limits: { ...DEFAULT_LIMITS, ...init.limits },
      republishIntervalMs: init.republishIntervalMs ?? HOUR,
      reprovideIntervalMs: init.reprovideIntervalMs ?? HOUR,
      tableRefreshMs: init.tableRefreshMs ?? 10 * MINUTE,
      ipDiversity: init.ipDiversity === undefined ? DEFAULT_IP_DIVERSITY : init.ipDiversity,
      tableMesh:
        init.tableMesh === null ? null : { ...DEFAULT_TABLE_MESH, ...definedOnly(init.tableMesh ?? {}) },
      kBucketSize: init.kBucketSize ?? 20,
      maxConnections: init.maxConnections ?? 300,
      agent: init.agent ?? AGENT,
      swarmKey: init.swarmKey ?? null
    }
    checkSwarmSettings(settings.protocol, settings.namespace)
    const swarmKey = settings.swarmKey != null ? parseSwarmKey(settings.swarmKey) : null
    for (const address of [...settings.listen, ...settings.bootstrap]) parseMultiaddr(address)

    const { privateKey } = await loadOrCreateIdentity(settings.dataDir, init.passphrase)
    await mkdir(join(settings.dataDir, 'datastore'), { recursive: true, mode: 0o700 })
    const datastore = new SwarmDatastore(
      join(settings.dataDir, 'datastore'),
      settings.limits.maxProvidersPerKey
    )
    await datastore.open()
    const peerStore = withPeerStoreCache(datastore)
    try {
      const rules = createRecordRules({ namespace: settings.namespace, limits: settings.limits, datastore })
      const ports = await avoidTakenPorts(settings.listen)
      const { node, transports, notes, identities } = await createLibp2pNode({
        privateKey,
        datastore: peerStore.datastore,
        listen: ports.listen,
        bootstrap: settings.bootstrap,
        mdns: settings.mdns,
        quic: settings.quic,
        protocol: settings.protocol,
        namespace: settings.namespace,
        validate: rules.validate,
        select: rules.select,
        agent: settings.agent,
        kBucketSize: settings.kBucketSize,
        maxConnections: settings.maxConnections,
        reprovideIntervalMs: settings.reprovideIntervalMs,
        querySelfIntervalMs: settings.tableRefreshMs,
        swarmKey: swarmKey?.file ?? null
      })
      const peer = new SwarmPeer(
        node,
        privateKey,
        datastore,
        peerStore,
        settings,
        transports,
        [...ports.notes, ...notes],
        identities
      )
      peer.privateSwarm = swarmKey?.fingerprint ?? null
      peer.wireEvents()
      await serveClock(node)
      await node.start()
      peer.crawler.start()
      peer.mesh?.start()
      peer.keepJoined()
      peer.scheduleRepublish()
      return peer
    } catch (err) {
      await peerStore.close().catch(() => {})
      await datastore.close().catch(() => {})
      throw err
    }
  }

  /** Stops the node and closes the datastore; safe to call more than once. */
  async stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.republishTimer)
      this.shutdown.abort()
      this.requests.close()
      await this.node.stop()
      await this.peerStore.close()
      await this.datastore.close()
    })()
    return this.stopping
  }

  /** Whether lookups run in one round from the crawled table (else they are kad-dht's iterative ones). */
  get oneRoundReady(): boolean {
    return this.lookups.usable()
  }

  get peerId(): PeerId {
    return this.node.peerId
  }

  subscribe(listener: (event: PeerEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  // ---- The seed's DHT service ------------------------------------------------------------------------------

  ownId = async (): Promise<string> => this.node.peerId.toString()

  putRecord: PeerServiceHandlers['putRecord'] = async ({ topic, key, value }, options) => {
    const target = this.target(topic, key)
    checkValue(value, this.settings.limits)
    const { bytes } = await sealRecord(this.privateKey, this.node.peerId.toString(), target.dhtKey, value)
    return this.bookkeeping.publishing(target.dhtKey, { topic: target.topic, key: target.key }, () =>
      this.publish(target, bytes, options)
    )
  }

  getRecord: PeerServiceHandlers['getRecord'] = async ({ topic, key }, options) => {
    const { found, queryId } = await this.lookup(this.target(topic, key), options)
    if (found == null) return { record: null, queryId }
    const { record, from } = found
    return {
      record: { value: record.value, from, publisher: record.publisher, createdAt: record.createdAt },
      queryId
    }
  }

  removeRecord: PeerServiceHandlers['removeRecord'] = async ({ topic, key }) => {
    const target = this.target(topic, key)
    const dsKey = recordDatastoreKey(target.dhtKey)
    const removed = await this.datastore.has(dsKey)
    await this.datastore.delete(dsKey)
    await this.bookkeeping.unmarkPublished(target.dhtKey)
    return { removed }
  }

  provide: PeerServiceHandlers['provide'] = async (input, options) => this.announce(input, options)

  /**
   * Announces this peer as a provider of a key. In one round from a full table (one-round-lookups.ts); with `walk`,
   * and before the first crawl, kad-dht's provide, which walks to the closest peers first: the re-announcement does,
   * as a republish does (see OneRoundLookups.putValue), to reach the closest peers a table may lack.
   */
  private async announce(
    { topic, key }: ApiParsedInput<'provide'>,
    options: CallOptions,
    how: { walk: boolean } = { walk: false }
  ): Promise<Awaited<ReturnType<PeerServiceHandlers['provide']>>> {
    const target = this.target(topic, key)
    const cid = await providerCid(this.settings.namespace, target.topic, target.key)
    await this.bookkeeping.rememberKey(cid, target)
    const recorder = this.queryLog.start('provide', kadIdOfKey(cid.multihash.bytes), target.topic, target.key)
    const sentTo = new Set<string>()
    try {
      const events =
        !how.walk && this.lookups.usable()
          ? this.lookups.provide(cid, this.node.getMultiaddrs(), this.routingOptions(options))
          : this.node.services.dht.provide(cid, this.routingOptions(options))
      for await (const event of traced(recorder, events, options.signal)) {
        // Counted once written (ADD_PROVIDER has no answer; its PEER_RESPONSE event says it was sent).
        if (event.name === 'PEER_RESPONSE' && event.messageName === 'ADD_PROVIDER')
          sentTo.add(event.from.toString())
      }
    } catch (err) {
      throw lookupFailed('provide', err, options)
    }
    recorder.finish('ok', `sent to ${sentTo.size} peer(s)`)
    return { cid: cid.toString(), sentTo: sentTo.size, queryId: recorder.id }
  }

  async *getProviders(
    { topic, key }: ApiParsedInput<'getProviders'>,
    options: CallOptions
  ): AsyncGenerator<ProviderFound> {
    const target = this.target(topic, key)
    const cid = await providerCid(this.settings.namespace, target.topic, target.key)
    // Written while the lookup runs rather than before it (a LevelDB write on the way to the first provider). Its
    // failure is caught at once (an unhandled rejection would end the process) and rethrown when the lookup ends; a
    // caller that stops reading early does not hear of it (the write only names the key for the UI).
    const remembered = this.bookkeeping.rememberKey(cid, target).then(
      () => null,
      (err: unknown) => err
    )
    const recorder = this.queryLog.start(
      'find-providers',
      kadIdOfKey(cid.multihash.bytes),
      target.topic,
      target.key
    )
    const seen = new Set<string>()
    const oneRound = this.lookups.usable()
    let completed = false
    try {
      // kad-dht's iterative lookup reports the providers this node holds itself before it asks anyone; so does the
      // one-round one. Read while the first round was under way instead, they came 6 ms after the lookup started (in
      // a 10-peer swarm in one process): their datastore reads waited behind the round's requests and answers.
      if (oneRound) {
        for (const provider of await this.localProviders(cid)) {
          seen.add(provider.peerId)
          yield provider
        }
      }
      for await (const event of traced(
        recorder,
        oneRound
          ? this.lookups.getProviders(cid, this.routingOptions(options))
          : this.node.services.dht.findProviders(cid, this.routingOptions(options)),
        options.signal
      )) {
        if (event.name !== 'PROVIDER') continue
        for (const provider of event.providers) {
          const id = provider.id.toString()
          if (seen.has(id)) continue
          seen.add(id)
          yield {
            peerId: id,
            addresses: [...new Set(provider.multiaddrs.map(String))],
            from: event.from.toString()
          }
        }
      }
      completed = true
    } catch (err) {
      recorder.finish(options.signal?.aborted === true ? 'aborted' : 'failed', (err as Error).message)
      throw lookupFailed('find providers', err, options)
    } finally {
      // The network part closes the trace itself (traced), but it may never have started: the caller stopped while
      // this node's own providers were being reported, or reading them failed. Closing twice is a no-op.
      if (!completed)
        recorder.finish(options.signal?.aborted === true ? 'aborted' : 'ok', 'stopped by the caller')
    }
    const failure = await remembered
    if (failure != null) throw failure
    recorder.finish(seen.size > 0 ? 'ok' : 'not-found', `${seen.size} provider(s)`)
  }

  /** Provider records this node holds for a key, with the addresses its peer store knows. */
  private async localProviders(cid: CID): Promise<ProviderFound[]> {
    const self = this.peerId.toString()
    const out: ProviderFound[] = []
    for await (const key of this.datastore.queryKeys({
      prefix: `${DHT_PREFIX}/provider/${multihashKey(cid)}/`
    })) {
      const parsed = parseProviderDatastoreKey(key)
      if (parsed == null) continue
      const addresses =
        parsed.peerId === self
          ? this.node.getMultiaddrs()
          : ((
              await this.node.peerStore.get(peerIdFromString(parsed.peerId)).catch(() => null)
            )?.addresses.map((a) => a.multiaddr) ?? [])
      out.push({ peerId: parsed.peerId, addresses: [...new Set(addresses.map(String))], from: self })
    }
    return out
  }

  stopProviding: PeerServiceHandlers['stopProviding'] = async ({ topic, key }) => {
    const target = this.target(topic, key)
    const cid = await providerCid(this.settings.namespace, target.topic, target.key)
    const ownEntry = providerDatastoreKey(cid, this.node.peerId)
    const stopped = await this.datastore.has(ownEntry)
    await this.node.services.dht.cancelReprovide(cid)
    return { stopped }
  }

  dial: PeerServiceHandlers['dial'] = async ({ multiaddr: address }, options) => {
    const ma = parseMultiaddr(address)
    let connection: Connection
    try {
      connection = await this.node.dial(ma, { signal: this.routingOptions(options).signal })
    } catch (err) {
      throw lookupFailed(`dial ${address}`, err, options)
    }
    return { peerId: connection.remotePeer.toString(), remoteAddr: connection.remoteAddr.toString() }
  }

  // ---- Inspection ------------------------------------------------------------------------------------------

  nodeInfo: PeerServiceHandlers['nodeInfo'] = async () => {
    const self = await this.node.peerStore.get(this.node.peerId).catch(() => null)
    const listening = this.node.getMultiaddrs().map(String)
    // Addresses others told us they see us on (identify), other than the ones we listen on.
    const bare = (a: string): string => a.replace(/\/p2p\/[^/]+$/, '')
    const listeningBare = new Set(listening.map(bare))
    const observed = (self?.addresses ?? [])
      .map((a) => a.multiaddr.toString())
      .filter((a) => !listeningBare.has(bare(a)))
    let records = 0
    for await (const _ of this.datastore.queryKeys({ prefix: `${DHT_PREFIX}/record/` })) records++
    let providerRecords = 0
    for await (const _ of this.datastore.queryKeys({ prefix: `${DHT_PREFIX}/provider/` })) providerRecords++
    return {
      peerId: this.node.peerId.toString(),
      agent: this.settings.agent,
      protocol: this.settings.protocol,
      namespace: this.settings.namespace,
      dhtMode: this.node.services.dht.getMode(),
      listenAddresses: listening,
      observedAddresses: observed,
      connections: this.node.getConnections().length,
      routingTableSize: this.routing.size,
      records,
      providerRecords,
      mdns: this.settings.mdns,
      bootstrap: this.settings.bootstrap,
      transports: this.transports,
      startedAt: this.startedAt,
      dataDir: this.settings.dataDir,
      notices: [...this.notes],
      privateSwarm: this.privateSwarm
    }
  }

  routingTable: PeerServiceHandlers['routingTable'] = async () => this.routing.view()

  records: PeerServiceHandlers['records'] = async ({ topic }) => {
    if (topic != null) checkTopic(topic, this.settings.limits)
    const out: StoredRecordView[] = []
    for await (const { value } of this.datastore.query({ prefix: `${DHT_PREFIX}/record/` })) {
      const view = await this.recordView(value)
      if (view != null && (topic == null || view.topic === topic)) out.push(view)
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.keyDisplay.localeCompare(b.keyDisplay))
  }

  providerRecords: PeerServiceHandlers['providerRecords'] = async () => {
    const byKey = new Map<string, ProviderEntryView[]>()
    const self = this.node.peerId.toString()
    const provided: string[] = []
    for await (const { key, value } of this.datastore.query({ prefix: `${DHT_PREFIX}/provider/` })) {
      const parsed = parseProviderDatastoreKey(key)
      if (parsed == null) continue
      const storedAt = varintTime(value)
      const entry = { peerId: parsed.peerId, storedAt, expiresAt: storedAt + 48 * HOUR }
      byKey.set(parsed.multihash, [...(byKey.get(parsed.multihash) ?? []), entry])
      if (parsed.peerId === self) provided.push(parsed.multihash)
    }
    const describe = async (multihash: string): Promise<ProviderKeyView> => {
      const known = await this.bookkeeping.keyFor(multihash)
      const cid = CID.createV1(0x55, Digest.decode(fromString(multihash, 'base32')))
      return {
        cid: cid.toString(),
        topic: known?.topic ?? null,
        key: known?.key ?? null,
        keyDisplay: known != null ? displayKey(known.key) : null
      }
    }
    const view: ProviderRecordsView = { provided: [], held: [] }
    for (const multihash of provided) view.provided.push(await describe(multihash))
    for (const [multihash, providers] of byKey) view.held.push({ ...(await describe(multihash)), providers })
    return view
  }

  connections: PeerServiceHandlers['connections'] = async () =>
    this.node.getConnections().map((c): ConnectionInfo => ({
      id: c.id,
      peerId: c.remotePeer.toString(),
      remoteAddr: c.remoteAddr.toString(),
      direction: c.direction,
      openedAt: c.timeline.open,
      transient: c.limits != null
    }))

  queries: PeerServiceHandlers['queries'] = async () => this.queryLog.list()

  /** One query's trace, by the id a put/get/provide returned (for in-process callers such as the swarm lab). */
  queryTrace(id: string): QueryTrace | undefined {
    return this.queryLog.get(id)
  }

  /** The most recent query of a kind (a provider lookup streams results and returns no id). */
  lastQuery(kind: QueryKind): QueryTrace | undefined {
    return this.queryLog.latest(kind)
  }

  events: PeerServiceHandlers['events'] = (_input, options) => {
    const queue = pushable<PeerEvent>({ objectMode: true })
    const unsubscribe = this.subscribe((event) => queue.push(event))
    const end = (): void => {
      unsubscribe()
      queue.end()
    }
    options.signal?.addEventListener('abort', end, { once: true })
    this.shutdown.signal.addEventListener('abort', end, { once: true })
    return queueIterable(queue, end)
  }

  checkReplication: PeerServiceHandlers['checkReplication'] = async ({ topic, key, kind }, options) => {
    const target = this.target(topic, key)
    const { signal } = this.routingOptions(options)
    const base = { kind, topic: target.topic, keyDisplay: displayKey(target.key) }
    try {
      if (kind === 'providers') {
        const cid = await providerCid(this.settings.namespace, target.topic, target.key)
        return {
          ...base,
          newest: null,
          replicas: await checkProviderReplicas(this.walkInit(signal), cid.multihash.bytes)
        }
      }
      const { replicas, newest } = await checkRecordReplicas(
        this.walkInit(signal),
        target.dhtKey,
        this.settings.limits
      )
      return {
        ...base,
        newest: newest != null ? { publisher: newest.publisher, createdAt: newest.createdAt } : null,
        replicas
      }
    } catch (err) {
      throw lookupFailed('replication check', err, options)
    }
  }

  /**
   * Sends the newest version found among the closest peers, or this node's own copy if that is newer, to them again,
   * as it is (same publisher and signature).
   */
  repairReplication: PeerServiceHandlers['repairReplication'] = async ({ topic, key }, options) => {
    const target = this.target(topic, key)
    const ownCopy = this.datastore.get(recordDatastoreKey(target.dhtKey)).catch(() => null)
    const { newestEnvelope } = await checkRecordReplicas(
      this.walkInit(this.routingOptions(options).signal),
      target.dhtKey,
      this.settings.limits
    ).catch((err: unknown) => {
      throw lookupFailed('replication check', err, options)
    })
    // This node's own copy counts too. The put below writes its envelope here unchecked, so repairing from an older
    // version the closest peers hold rolled a newer own copy back (and every peer holding the newer one refused it).
    const own = await ownCopy
    let ownEnvelope: Uint8Array | null = null
    try {
      ownEnvelope = own != null ? DhtRecord.deserialize(own).value : null
    } catch {
      // A copy broken on disk is no candidate: the closest peers' copy (or a lookup) repairs from elsewhere.
    }
    const candidates = [
      ...(ownEnvelope != null ? [{ value: ownEnvelope, from: this.peerId.toString() }] : []),
      ...(newestEnvelope != null ? [{ value: newestEnvelope, from: 'closest' }] : [])
    ]
    const newest = await this.newestValid(candidates, this.recordOpener(target.dhtKey))
    // No copy anywhere near: fall back to a full lookup.
    const envelope = newest?.envelope ?? (await this.lookup(target, options)).found?.envelope
    if (envelope == null)
      throw new NotFoundError(`no copy of ${target.topic}/${displayKey(target.key)} to repair from`)
    return this.publish(target, envelope, options, { walk: true })
  }

  // ---- Internals -------------------------------------------------------------------------------------------

  /** Validates topic and key against this swarm's limits and derives the DHT key. */
  private target(topic: string, key: string | Uint8Array): TopicKey & { dhtKey: Uint8Array } {
    const limits = this.settings.limits
    const checkedTopic = checkTopic(topic, limits)
    const checkedKey = checkKey(key, limits)
    return {
      topic: checkedTopic,
      key: checkedKey,
      dhtKey: recordKey(this.settings.namespace, checkedTopic, checkedKey)
    }
  }

  /** Every query is cancelled by the caller's signal or by stop(). */
  private routingOptions(options: CallOptions): { signal: AbortSignal } {
    const signals = [this.shutdown.signal, ...(options.signal != null ? [options.signal] : [])]
    return { signal: AbortSignal.any(signals) }
  }

  /** What a walk to a key's closest peers needs (closest-walk.ts). */
  private walkInit(signal: AbortSignal): WalkInit {
    return { dht: this.node.services.dht, self: this.peerId, signal }
  }

  /**
   * Stores a record on the k peers closest to its key. kad-dht's iterative put returns when every send has ended;
   * a one-round put returns once PUT_QUORUM peers have confirmed the record, and the other sends finish in the
   * background (their answers still land in the query's trace, which is closed when the last one ends). The wait
   * is then for the quorum's slowest peer, not for the busiest of twenty. `walk`: ask the swarm for the closest
   * peers first (see OneRoundLookups.putValue).
   */
  private async publish(
    target: TopicKey & { dhtKey: Uint8Array },
    envelope: Uint8Array,
    options: CallOptions,
    how: { walk: boolean } = { walk: false }
  ) {
    const recorder = this.queryLog.start('put', kadIdOfKey(target.dhtKey), target.topic, target.key)
    const oneRound = this.lookups.usable()
    const sentTo = new Set<string>()
    const accepted = new Set<string>()
    const observe = (event: QueryEvent): void => {
      if (event.name === 'SEND_QUERY' && event.messageName === 'PUT_VALUE') sentTo.add(event.to.toString())
      if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE' && event.record != null) {
        if (equals(event.record.value, envelope)) accepted.add(event.from.toString())
      }
    }
    // The caller may give up until the quorum is reached; after that the sends belong to this peer.
    const sends = new AbortController()
    const giveUp = (): void => sends.abort()
    options.signal?.addEventListener('abort', giveUp, { once: true })
    const signal = AbortSignal.any([this.shutdown.signal, sends.signal])
    const put = oneRound
      ? this.lookups.putValue(target.dhtKey, envelope, { signal, walk: how.walk })
      : { targets: 0, events: this.node.services.dht.put(target.dhtKey, envelope, { signal }) }
    const events = traced(recorder, put.events, signal)[Symbol.asyncIterator]()
    // A one-round put knows its targets once it has picked them (up front, or after a republish's walk); at the
    // quorum some have not been sent to yet.
    const targets = (): number => Math.max(put.targets, sentTo.size)
    const finish = (): void => recorder.finish('ok', `stored on ${accepted.size} of ${targets()} peer(s)`)
    // Reads the put's events; with `atQuorum`, stops (true) once PUT_QUORUM peers have confirmed.
    const pump = async (atQuorum: boolean): Promise<boolean> => {
      for (let next = await events.next(); next.done !== true; next = await events.next()) {
        observe(next.value)
        if (atQuorum && accepted.size >= PUT_QUORUM) return true
      }
      return false
    }
    let quorum: boolean
    try {
      quorum = await pump(oneRound)
    } catch (err) {
      throw lookupFailed('put', err, options)
    } finally {
      options.signal?.removeEventListener('abort', giveUp)
    }
    const result = { accepted: accepted.size, sentTo: targets(), queryId: recorder.id }
    if (!quorum) finish()
    else
      void pump(false)
        .catch(() => {})
        .finally(finish)
    return result
  }

  /** Looks a record up in the swarm (and locally); the newest valid envelope wins. */
  private async lookup(
    target: TopicKey & { dhtKey: Uint8Array },
    options: CallOptions
  ): Promise<{
    found: { record: SignedRecord; envelope: Uint8Array; from: string } | null
    queryId: string
  }> {
    const recorder = this.queryLog.start('get', kadIdOfKey(target.dhtKey), target.topic, target.key)
    const candidates: { value: Uint8Array; from: string }[] = []
    const open = this.recordOpener(target.dhtKey)
    const oneRound = this.lookups.usable()
    // kad-dht's iterative get includes this node's own copy; the one-round lookup leaves that to us. It is read
    // while the round is under way: awaited first, the read's completion (queued behind the process's network
    // events) held the round's requests back. It still goes first among the candidates, so a tie goes to it.
    const ownCopy = oneRound
      ? this.datastore.get(recordDatastoreKey(target.dhtKey)).catch(() => null)
      : Promise.resolve(null)
    try {
      for await (const event of traced(
        recorder,
        oneRound
          ? this.lookups.getValue(
              target.dhtKey,
              this.routingOptions(options),
              async (value) => (await open(value)) != null
            )
          : this.node.services.dht.get(target.dhtKey, this.routingOptions(options)),
        options.signal
      )) {
        if (event.name === 'VALUE') candidates.push({ value: event.value, from: event.from.toString() })
      }
    } catch (err) {
      throw lookupFailed('get', err, options)
    }
    const local = await ownCopy
    if (local != null)
      candidates.unshift({ value: DhtRecord.deserialize(local).value, from: this.peerId.toString() })
    const best = await this.newestValid(candidates, open)
    if (best == null) {
      recorder.finish('not-found', null)
      return { found: null, queryId: recorder.id }
    }
    recorder.finish('ok', `from ${best.from}`)
    return { found: best, queryId: recorder.id }
  }

  /**
   * Opens (decodes and validates) each distinct envelope of one lookup once: a one-round get checks an answer
   * before it lets the answer end a round, and the pick of the newest reuses that check. Null: invalid or expired.
   */
  private recordOpener(dhtKey: Uint8Array): (envelope: Uint8Array) => Promise<SignedRecord | null> {
    const opened: { envelope: Uint8Array; record: Promise<SignedRecord | null> }[] = []
    return (envelope) => {
      let entry = opened.find((o) => equals(o.envelope, envelope))
      if (entry == null) {
        const record = openRecord(dhtKey, envelope, { limits: this.settings.limits }).catch(() => null)
        entry = { envelope, record }
        opened.push(entry)
      }
      return entry.record
    }
  }

  /**
   * The newest valid version among those a lookup collected. kad-dht's iterative get yields one pick; a one-round
   * get yields every valid copy the closest peers hold, plus our own.
   */
  private async newestValid(
    candidates: { value: Uint8Array; from: string }[],
    open: (envelope: Uint8Array) => Promise<SignedRecord | null>
  ): Promise<{ record: SignedRecord; envelope: Uint8Array; from: string } | null> {
    let best: { record: SignedRecord; envelope: Uint8Array; from: string } | null = null
    for (const { value, from } of candidates) {
      // An invalid or expired copy from one peer does not hide a valid one from another.
      const record = await open(value)
      if (record != null && (best == null || compareRecords(record, best.record) > 0))
        best = { record, envelope: value, from }
    }
    return best
  }

  /**
   * Whether a stored envelope's signature holds. Listing records re-reads every one, so each verdict is kept: an
   * Ed25519 check is paid once per stored version, not once per listing.
   */
  private async signatureState(dhtKey: Uint8Array, envelope: Uint8Array): Promise<'valid' | 'invalid'> {
    // Keyed by the whole stored envelope (and its key), so a copy altered on disk is never taken for the checked one.
    const id = createHash('sha256').update(dhtKey).update(envelope).digest('base64')
    const known = this.verdicts.get(id)
    if (known != null) return known
    let verdict: 'valid' | 'invalid' = 'valid'
    try {
      await openRecord(dhtKey, envelope, { limits: { ...this.settings.limits, maxRecordAgeMs: Infinity } })
    } catch {
      verdict = 'invalid'
    }
    if (this.verdicts.size >= 50_000) this.verdicts.clear()
    this.verdicts.set(id, verdict)
    return verdict
  }

  private async recordView(stored: Uint8Array): Promise<StoredRecordView | null> {
    let record: DhtRecord
    try {
      record = DhtRecord.deserialize(stored)
    } catch {
      return null
    }
    const parsed = parseRecordKey(this.settings.namespace, record.key)
    if (parsed == null) return null
    let envelope: SignedRecord
    try {
      envelope = decodeRecord(record.value, this.settings.limits.maxValueBytes)
    } catch {
      return null
    }
    const signature = await this.signatureState(record.key, record.value)
    return {
      topic: parsed.topic,
      key: parsed.key,
      keyDisplay: displayKey(parsed.key),
      value: envelope.value,
      size: envelope.value.byteLength,
      publisher: envelope.publisher,
      createdAt: envelope.createdAt,
      receivedAt: record.timeReceived?.getTime() ?? null,
      expiresAt: envelope.createdAt + this.settings.limits.maxRecordAgeMs,
      signature,
      mine:
        envelope.publisher === this.node.peerId.toString() && (await this.bookkeeping.isPublished(record.key))
    }
  }

  /**
   * Republishes the records this node put, so they reach the peers now closest to them (churn) and do not expire.
   * While this node's version is the newest in the swarm it is sent again as it is (same time and signature, so it
   * can never overwrite a newer write that crosses it); only past half its lifetime is it re-signed with a fresh
   * time. Once another publisher has written the key, this node stops republishing it. Then the keys this node
   * provides are announced again.
   */
  async republish(): Promise<void> {
    const self = this.node.peerId.toString()
    // A key this peer puts while its lookup runs keeps its mark, whatever the lookup found.
    const puts = this.bookkeeping.watchPuts()
    try {
      await this.republishMarked(self, puts)
    } finally {
      puts.stop()
    }
    if (this.shutdown.signal.aborted) return
    await this.reannounce()
  }

  /** republish()'s records part: each key marked as this peer's is put again, or unmarked (see republish). */
  private async republishMarked(self: string, puts: ReturnType<Bookkeeping['watchPuts']>): Promise<void> {
    for await (const entry of this.bookkeeping.published()) {
      if (this.shutdown.signal.aborted) return
      const target = { ...entry, dhtKey: recordKey(this.settings.namespace, entry.topic, entry.key) }
      try {
        const { found } = await this.lookup(target, { signal: this.shutdown.signal })
        if (found == null || found.record.publisher !== self) {
          await puts.unmarkUnlessPut(target.dhtKey)
          continue
        }
        const ageing = Date.now() - found.record.createdAt > this.settings.limits.maxRecordAgeMs / 2
        const envelope = ageing
          ? (await sealRecord(this.privateKey, self, target.dhtKey, found.record.value)).bytes
          : found.envelope
        await this.publish(target, envelope, { signal: this.shutdown.signal }, { walk: true })
      } catch {
        // A failed round is retried at the next interval; the trace shows what went wrong.
      }
    }
  }

  /**
   * Announces again every key this node provides, to the peers now closest to it. kad-dht's reprovider only
   * re-announces near a record's expiry (48 h), so after churn the surviving close peers would not learn of it.
   */
  private async reannounce(): Promise<void> {
    const self = this.peerId.toString()
    const provided: TopicKey[] = []
    for await (const key of this.datastore.queryKeys({ prefix: `${DHT_PREFIX}/provider/` })) {
      const parsed = parseProviderDatastoreKey(key)
      if (parsed?.peerId !== self) continue
      const known = await this.bookkeeping.keyFor(parsed.multihash)
      if (known != null) provided.push(known)
    }
    for (const { topic, key } of provided) {
      if (this.shutdown.signal.aborted) return
      await this.announce({ topic, key }, { signal: this.shutdown.signal }, { walk: true }).catch(() => {})
    }
  }

  /**
   * libp2p dials the bootstrap peers once, at start. A dial that fails then (a bootstrap peer still starting, or
   * swamped by a swarm joining at once — seen in the swarm lab) would leave this peer alone for good; so while the
   * routing table is empty, the bootstrap peers are dialled again every few seconds.
   */
  private keepJoined(): void {
    if (this.settings.bootstrap.length === 0) return
    const table = kadRoutingTable(this.node.services.dht)
    // Backing off, with jitter: when a bootstrap peer is overloaded (a whole swarm joining through it), every
    // newcomer redialling it on a fixed beat keeps it overloaded with handshakes that time out.
    const retry = (delayMs: number): void => {
      const timer = setTimeout(
        () => {
          if (this.shutdown.signal.aborted) return
          if (this.routing.size === 0) {
            // A bootstrap peer already connected (its first add was lost, say) is offered to the table directly:
            // dialling it again returns the open connection and tells kad-dht nothing new.
            for (const address of this.settings.bootstrap)
              void this.node
                .dial(multiaddr(address), { signal: this.shutdown.signal })
                .then((connection) => table.add(connection.remotePeer, { signal: this.shutdown.signal }))
                .catch(() => {})
          }
          retry(Math.min(delayMs * 2, 30_000))
        },
        delayMs * (0.5 + Math.random())
      )
      timer.unref()
    }
    retry(3_000)
  }

  private scheduleRepublish(): void {
    const run = (): void => {
      this.republishTimer = setTimeout(() => {
        this.republish().finally(() => {
          if (!this.shutdown.signal.aborted) run()
        })
      }, this.settings.republishIntervalMs)
      this.republishTimer.unref()
    }
    run()
  }

  private emit(event: PeerEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // One broken subscriber must not stop the others.
      }
    }
  }

  private wireEvents(): void {
    const at = Date.now
    this.routing.onChange(({ type, peerId, cpl }) =>
      this.emit(
        type === 'add'
          ? { type: 'routing:add', peerId, cpl, at: at() }
          : { type: 'routing:remove', peerId, at: at() }
      )
    )
    afterOpen(
      this.node,
      () => CLOCK_READ_AFTER_OPEN_MS,
      (c) => {
        // Only the routing table shows readings.
        if (this.routing.holds(c.remotePeer)) this.clocks.settled(c)
      }
    )
    this.node.addEventListener('connection:open', ({ detail: c }) => {
      this.clocks.opened(c)
      this.emit({
        type: 'connection:open',
        peerId: c.remotePeer.toString(),
        remoteAddr: c.remoteAddr.toString(),
        direction: c.direction,
        at: at()
      })
    })
    this.node.addEventListener('connection:close', ({ detail: c }) =>
      this.emit({
        type: 'connection:close',
        peerId: c.remotePeer.toString(),
        remoteAddr: c.remoteAddr.toString(),
        at: at()
      })
    )
    this.node.addEventListener('peer:discovery', ({ detail }) =>
      this.emit({
        type: 'peer:discovered',
        peerId: detail.id.toString(),
        addresses: detail.multiaddrs.map(String),
        at: at()
      })
    )
    const self = this.node.peerId.toString()
    this.datastore.observer = {
      record: (_key, value) => {
        try {
          const record = DhtRecord.deserialize(value)
          const parsed = parseRecordKey(this.settings.namespace, record.key)
          const envelope = decodeRecord(record.value, this.settings.limits.maxValueBytes)
          if (parsed == null || envelope.publisher === self) return
          this.emit({
            type: 'record:stored',
            ...parsed,
            publisher: envelope.publisher,
            createdAt: envelope.createdAt,
            at: at()
          })
        } catch {
          // Not ours to report.
        }
      },
      provider: (key) => {
        const parsed = parseProviderDatastoreKey(key)
        if (parsed == null || parsed.peerId === self) return
        const cid = CID.createV1(0x55, Digest.decode(fromString(parsed.multihash, 'base32')))
        this.emit({ type: 'provider:stored', cid: cid.toString(), provider: parsed.peerId, at: at() })
      }
    }
  }
}

/** Never join the public IPFS DHT by accident, and keep the namespace a single key segment. */
export function checkSwarmSettings(protocol: string, namespace: string): void {
  if (PUBLIC_IPFS_DHT_PROTOCOLS.includes(protocol)) {
    throw new InvalidInputError(
      `protocol ${protocol} is the public IPFS DHT; a swarm needs its own protocol id`
    )
  }
  if (!/^\/[\w.\-/]+$/.test(protocol))
    throw new InvalidInputError(`protocol id must look like /name/kad/1.0.0: ${protocol}`)
  if (!/^[\w.-]+$/.test(namespace) || namespace === 'pk' || namespace === 'ipns') {
    throw new InvalidInputError(
      `namespace must be letters, digits, "-", "_" or "." (and not pk or ipns): ${namespace}`
    )
  }
}

export function parseMultiaddr(address: string): Multiaddr {
  try {
    return multiaddr(address)
  } catch (err) {
    throw new InvalidInputError(`malformed multiaddr ${JSON.stringify(address)}: ${(err as Error).message}`)
  }
}

function providerDatastoreKey(cid: CID, peerId: PeerId): Key {
  return new Key(`${DHT_PREFIX}/provider/${toString(cid.multihash.bytes, 'base32')}/${peerId.toString()}`)
}

function parseProviderDatastoreKey(key: Key): { multihash: string; peerId: string } | null {
  const parts = key.toString().split('/')
  const peerId = parts.pop()
  const multihash = parts.pop()
  if (peerId == null || multihash == null) return null
  try {
    peerIdFromString(peerId)
  } catch {
    return null
  }
  return { multihash, peerId }
}

function lookupFailed(what: string, err: unknown, options: CallOptions): Error {
  if (options.signal?.aborted === true) {
    const aborted = new Error(`${what} was cancelled`)
    aborted.name = 'AbortError'
    return aborted
  }
  if (err instanceof InvalidInputError) return err
  return new LookupError(`${what} failed: ${(err as Error).message}`)
}
