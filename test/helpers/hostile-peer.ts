/**
 * A hostile peer for tests: a bare libp2p node (tcp + noise + yamux, no services) that dials an honest swarm peer
 * and writes whatever it likes onto raw streams of the swarm's DHT protocol.
 *
 * The kad-dht wire message is encoded here by hand (varint length prefix + protobuf), independently of kad-dht's
 * own codec, so the attacker can also send what that codec would never produce.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import * as varint from 'uint8-varint'
import { concat } from 'uint8arrays'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { SwarmPeer } from '../../src/main/peer/swarm-peer.ts'

/** kad-dht's MessageType enum, by wire value. */
export const MessageType = {
  PUT_VALUE: 0,
  GET_VALUE: 1,
  ADD_PROVIDER: 2,
  GET_PROVIDERS: 3,
  FIND_NODE: 4,
  PING: 5
} as const

export interface WirePeerInfo {
  /** The peer id's multihash bytes. */
  id: Uint8Array
  multiaddrs: Uint8Array[]
}

export interface WireMessage {
  type: number
  key?: Uint8Array
  /** A serialised kad-dht (libp2p) Record. */
  record?: Uint8Array
  providers?: WirePeerInfo[]
}

// ---- protobuf, by hand -------------------------------------------------------------------------------------

const tag = (field: number, wireType: number): Uint8Array => varint.encode((field << 3) | wireType)
const bytesField = (field: number, value: Uint8Array): Uint8Array =>
  concat([tag(field, 2), varint.encode(value.byteLength), value])

function encodePeerInfo(peer: WirePeerInfo): Uint8Array {
  return concat([bytesField(1, peer.id), ...peer.multiaddrs.map((a) => bytesField(2, a))])
}

export function encodeMessage(msg: WireMessage): Uint8Array {
  const parts: Uint8Array[] = [tag(1, 0), varint.encode(msg.type)]
  if (msg.key != null) parts.push(bytesField(2, msg.key))
  if (msg.record != null) parts.push(bytesField(3, msg.record))
  for (const provider of msg.providers ?? []) parts.push(bytesField(9, encodePeerInfo(provider)))
  return concat(parts)
}

/** A message with its varint length prefix, as kad-dht frames it. */
export const frame = (msg: WireMessage): Uint8Array => {
  const body = encodeMessage(msg)
  return concat([varint.encode(body.byteLength), body])
}

/** Decodes the fields a test looks at (type, key, record); skips the rest. */
export function decodeMessage(buf: Uint8Array): WireMessage {
  const msg: WireMessage = { type: MessageType.PUT_VALUE }
  let pos = 0
  while (pos < buf.byteLength) {
    const t = varint.decode(buf, pos)
    pos += varint.encodingLength(t)
    const field = t >>> 3
    const wireType = t & 7
    if (wireType === 0) {
      const v = varint.decode(buf, pos)
      pos += varint.encodingLength(v)
      if (field === 1) msg.type = v
    } else if (wireType === 2) {
      const len = varint.decode(buf, pos)
      pos += varint.encodingLength(len)
      const value = buf.subarray(pos, pos + len)
      pos += len
      if (field === 2) msg.key = value
      if (field === 3) msg.record = value
    } else {
      throw new Error(`unexpected wire type ${wireType} in a response`)
    }
  }
  return msg
}

// ---- the attacker node -------------------------------------------------------------------------------------

export interface Attacker {
  node: Libp2p
  peerId: PeerId
  /** This attacker as a provider entry (its own id and listen addresses). */
  self: WirePeerInfo
  connect(peer: SwarmPeer): Promise<Connection>
  stop(): Promise<void>
}

export async function createAttacker(): Promise<Attacker> {
  const node = await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
  return {
    node,
    peerId: node.peerId,
    self: {
      id: node.peerId.toMultihash().bytes,
      multiaddrs: node.getMultiaddrs().map((a) => a.decapsulateCode(421).bytes)
    },
    connect: async (peer) => node.dial(peer.node.getMultiaddrs()[0]!),
    stop: async () => node.stop()
  }
}

/** Many attacker identities at once (each its own node, key and connection). */
export async function createAttackers(n: number): Promise<Attacker[]> {
  return Promise.all(Array.from({ length: n }, () => createAttacker()))
}

// ---- raw DHT streams ---------------------------------------------------------------------------------------

export interface Closed {
  error: string | null
  byRemote: boolean
  afterMs: number
}

export interface Probe {
  stream: Stream
  openedAt: number
  /** Bytes the attacker wrote. */
  sent: number
  /**
   * Settles once the stream is over: `error` names why (null for a clean close) and `byRemote` says whether the
   * honest peer ended it (a reset it sent) rather than this side.
   */
  closed: Promise<Closed>
  /** Every complete response frame the honest peer sent back, decoded. */
  responses: WireMessage[]
  /** Writes, waiting for the muxer to drain when it asks to; false once the stream is no longer writable. */
  write(bytes: Uint8Array): Promise<boolean>
  /** Resolves with the next response, or null when the stream closes first or `timeoutMs` passes. */
  nextResponse(timeoutMs?: number): Promise<WireMessage | null>
  /** Half-closes: the attacker will send nothing more. */
  end(): Promise<void>
}

/**
 * Opens a raw stream on the DHT protocol. The attacker has no handler for it, so libp2p would cap its outbound
 * streams at the default (64) per connection; a hostile peer sets whatever limit it wants.
 */
export async function openDhtStream(connection: Connection, protocol: string): Promise<Probe> {
  const stream = await connection.newStream(protocol, {
    maxOutboundStreams: 10_000,
    signal: AbortSignal.timeout(10_000)
  })
  const openedAt = Date.now()
  let pending = new Uint8Array(0)
  const responses: WireMessage[] = []
  const waiters = new Set<() => void>()
  const wake = (): void => {
    for (const w of waiters) w()
    waiters.clear()
  }
  stream.addEventListener('message', (evt) => {
    pending = concat([pending, evt.data.subarray()])
    // Split off every complete length-prefixed frame.
    while (pending.byteLength > 0) {
      let len: number
      try {
        len = varint.decode(pending, 0)
      } catch {
        break
      }
      const head = varint.encodingLength(len)
      if (pending.byteLength < head + len) break
      responses.push(decodeMessage(pending.subarray(head, head + len)))
      pending = pending.subarray(head + len)
    }
    wake()
  })
  const closed = new Promise<Closed>((resolve) => {
    stream.addEventListener('close', (evt) => {
      wake()
      resolve({ error: evt.error?.name ?? null, byRemote: !evt.local, afterMs: Date.now() - openedAt })
    })
  })
  const probe: Probe = {
    stream,
    openedAt,
    sent: 0,
    closed,
    responses,
    async write(bytes) {
      if (stream.writeStatus !== 'writable') return false
      try {
        probe.sent += bytes.byteLength
        if (!stream.send(bytes)) await stream.onDrain({ signal: AbortSignal.timeout(10_000) })
        return true
      } catch {
        return false
      }
    },
    async nextResponse(timeoutMs = 10_000) {
      const seen = responses.length
      const deadline = Date.now() + timeoutMs
      while (responses.length === seen && stream.status === 'open' && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()))
          waiters.add(() => {
            clearTimeout(timer)
            resolve()
          })
        })
      }
      return responses[seen] ?? null
    },
    async end() {
      if (stream.writeStatus === 'writable') await stream.close().catch(() => {})
    }
  }
  return probe
}

/** One request on a fresh stream: writes it, half-closes, and waits for a response or the stream's end. */
export async function request(
  connection: Connection,
  protocol: string,
  msg: WireMessage
): Promise<{ response: WireMessage | null; closed: Closed }> {
  const probe = await openDhtStream(connection, protocol)
  await probe.write(frame(msg))
  const response = await probe.nextResponse()
  await probe.end()
  return { response, closed: await probe.closed }
}

// ---- memory ------------------------------------------------------------------------------------------------

type Gc = (options?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void
let collect: Gc | undefined
/**
 * A full, memory-reducing garbage collection (V8's "last resort" flavour also hands the emptied heap pages back, so
 * rss shows what is still in use rather than the heap's high-water mark). gc() is exposed at runtime when the process
 * was not started with --expose-gc.
 */
export function fullGc(): void {
  if (collect == null) {
    const global = globalThis as { gc?: Gc }
    if (global.gc != null) collect = global.gc
    else {
      setFlagsFromString('--expose-gc')
      collect = runInNewContext('gc') as Gc
    }
  }
  collect({ type: 'major', execution: 'sync', flavor: 'last-resort' })
}

export interface MemorySample {
  rss: number
  heapUsed: number
  /** Memory held by JS objects outside the heap: Buffers and other ArrayBuffers, among others. */
  external: number
}

export async function memory(): Promise<MemorySample> {
  // Twice, with a turn of the event loop between, so objects released by finalisers go too.
  fullGc()
  await new Promise((resolve) => setImmediate(resolve))
  fullGc()
  const { rss, heapUsed, external } = process.memoryUsage()
  return { rss, heapUsed, external }
}

export const MB = 1024 * 1024
