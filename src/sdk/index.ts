/**
 * A TypeScript client of the SDK bridge with the seed's shape:
 *
 *   const transport = new Connection('http://localhost:8080')   // gRPC-web over the local API port
 *   const client = new Client(transport)
 *   await client.dht.putRecord('charging_pause', await client.discovery.getOwnId(), '1h')
 *   for await (const provider of client.dht.getProviders('capabilities', 'camera')) console.log(provider)
 *   await transport.close()
 *
 * `new Connection()` without a URL uses native gRPC on the Unix socket in HYVEOS_BRIDGE_SOCKET (as scripts started
 * with `swarm-inspector run -- …` have it). Keys and values are strings (UTF-8) or bytes.
 */
import { create } from '@bufbuild/protobuf'
import { createClient, type Client as RpcClient, type Transport } from '@connectrpc/connect'
import { createGrpcTransport, createGrpcWebTransport, Http2SessionManager } from '@connectrpc/connect-node'
import { connect as netConnect } from 'node:net'
import {
  DHT,
  DHTKeySchema,
  Discovery,
  EmptySchema,
  type NeighbourEvent
} from '../shared/bridge/gen/script_pb.ts'

export type Bytes = string | Uint8Array

const bytes = (value: Bytes): Uint8Array =>
  typeof value === 'string' ? new TextEncoder().encode(value) : value
const dhtKey = (topic: string, key: Bytes) => create(DHTKeySchema, { topic: { topic }, key: bytes(key) })

export class Connection {
  readonly transport: Transport
  private readonly sessions: Http2SessionManager | null

  /** `url`: the peer's local API (gRPC-web); none: the Unix socket in HYVEOS_BRIDGE_SOCKET (native gRPC). */
  constructor(url?: string) {
    if (url != null) {
      this.sessions = null
      this.transport = createGrpcWebTransport({ baseUrl: url, httpVersion: '1.1' })
      return
    }
    const socket = process.env['HYVEOS_BRIDGE_SOCKET']
    if (socket == null || socket === '') {
      throw new Error(
        'no URL given and HYVEOS_BRIDGE_SOCKET is not set (run the script with `swarm-inspector run -- …`)'
      )
    }
    // gRPC needs HTTP/2; the session is made over the Unix socket instead of TCP.
    this.sessions = new Http2SessionManager('http://localhost', undefined, {
      createConnection: () => netConnect(socket)
    })
    this.transport = createGrpcTransport({ baseUrl: 'http://localhost', sessionManager: this.sessions })
  }

  /** Closes the connection's HTTP/2 session, if it has one. */
  async close(): Promise<void> {
    this.sessions?.abort()
  }
}

export class DhtService {
  private readonly rpc: RpcClient<typeof DHT>
  constructor(transport: Transport) {
    this.rpc = createClient(DHT, transport)
  }

  async putRecord(topic: string, key: Bytes, value: Bytes): Promise<void> {
    await this.rpc.putRecord({ key: { topic: { topic }, key: bytes(key) }, value: { data: bytes(value) } })
  }

  /** The value, or null when no record is found. */
  async getRecord(topic: string, key: Bytes): Promise<Uint8Array | null> {
    const answer = await this.rpc.getRecord(dhtKey(topic, key))
    return answer.data?.data ?? null
  }

  /** Removes this peer's own copy only. */
  async removeRecord(topic: string, key: Bytes): Promise<void> {
    await this.rpc.removeRecord(dhtKey(topic, key))
  }

  async provide(topic: string, key: Bytes): Promise<void> {
    await this.rpc.provide(dhtKey(topic, key))
  }

  async stopProviding(topic: string, key: Bytes): Promise<void> {
    await this.rpc.stopProviding(dhtKey(topic, key))
  }

  /** Provider peer ids as they are found; stop early with `break` or the signal. */
  async *getProviders(
    topic: string,
    key: Bytes,
    options: { signal?: AbortSignal } = {}
  ): AsyncGenerator<string> {
    for await (const peer of this.rpc.getProviders(
      dhtKey(topic, key),
      options.signal != null ? { signal: options.signal } : {}
    )) {
      yield peer.peerId
    }
  }
}

export class DiscoveryService {
  private readonly rpc: RpcClient<typeof Discovery>
  constructor(transport: Transport) {
    this.rpc = createClient(Discovery, transport)
  }

  async getOwnId(): Promise<string> {
    return (await this.rpc.getOwnId(create(EmptySchema))).peerId
  }

  /** First `init` with the current neighbours, then `discovered` / `lost` as peers connect and leave. */
  subscribeEvents(options: { signal?: AbortSignal } = {}): AsyncIterable<NeighbourEvent> {
    return this.rpc.subscribeEvents(
      create(EmptySchema),
      options.signal != null ? { signal: options.signal } : {}
    )
  }
}

export class Client {
  readonly dht: DhtService
  readonly discovery: DiscoveryService
  constructor(connection: Connection) {
    this.dht = new DhtService(connection.transport)
    this.discovery = new DiscoveryService(connection.transport)
  }
}

export type { NeighbourEvent }
