/**
 * DHT requests over streams that are kept open and reused, one request at a time per stream.
 *
 * kad-dht's network opens a stream for every request and closes it after the answer: a yamux stream opened and
 * closed, protocol negotiation, a peer-store write on each side. It also offers every peer an answer names to the
 * routing table: twenty table updates per answer. Measured between peers in one process, CPU of both sides per
 * GET_VALUE: kad-dht's sendRequest 5.0 ms (9.2 ms with 8 peers), a new stream without the table updates 4.3 ms
 * (4.9), one stream reused 1.4-2.0 ms (2.6).
 *
 * The wire protocol allows reuse: kad-dht's handler, like go-libp2p's, answers message after message on a stream
 * until it closes, and go-libp2p's own requests reuse their streams. kad-dht resets a stream that brings no message
 * for 10 s, so an idle stream is closed here after IDLE_MS; and a request that fails on a reused stream before its
 * answer (the remote dropped the stream meanwhile) is sent once more on a new one. DHT requests are idempotent.
 *
 * It has the face of kad-dht's network (`sendRequest` yielding kad-dht's query events), so lookups and the crawler
 * use it unchanged. Peers named in answers are not offered to the routing table here: the crawler keeps the table
 * full (and adds what it learns itself), and kad-dht's own iterative lookups still feed it as before.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf'
import { EventTypes, MessageType, Record as DhtRecord, type QueryEvent } from '@libp2p/kad-dht'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import * as Digest from 'multiformats/hashes/digest'
import { equals } from 'uint8arrays'
import type { DialProtocolOptions, PeerId, PeerInfo, Stream } from '@libp2p/interface'
import {
  MessageSchema,
  MessageType as WireType,
  type Message,
  type PeerInfo as WirePeerInfo
} from './gen/kad_dht_pb.ts'
import type { KadMessenger, KadNetwork, KadOneWayMessage } from './kad-network.ts'

/** An idle stream is closed after this long, before kad-dht's 10 s incoming-message timeout resets it. */
export const IDLE_MS = 8_000
/** Idle streams kept per peer; more concurrent requests open more streams, closed after their answer. */
const IDLE_PER_PEER = 2
/** A request without a signal of its own gives up after this long (kad-dht's default is adaptive, 5-60 s). */
const DEFAULT_TIMEOUT_MS = 10_000

export interface StreamOpener {
  dialProtocol(peer: PeerId, protocols: string, options?: DialProtocolOptions): Promise<Stream>
}

interface OpenStream {
  stream: Stream
  lp: LengthPrefixedStream<Stream>
  idleSince: number
  reused: boolean
  /**
   * Whether the remote has handled everything written on it (an answer was read after it). A one-way message is
   * only written: if the remote's handler refuses it, kad-dht aborts the stream, and a message written on it before
   * the reset arrives is lost without an error. A request notices (its read fails, and it is resent on a new
   * stream); a one-way message would not, so it goes only on a stream that is confirmed, or a new one.
   */
  confirmed: boolean
}

type Path = Parameters<KadNetwork['sendRequest']>[2]['path']
type Request = Parameters<KadNetwork['sendRequest']>[1]

/** One request: to whom, the message and its encoding, and when to give up. */
interface Call {
  to: PeerId
  msg: Request
  request: Uint8Array
  signal: AbortSignal
}

export class DhtRequestStreams implements KadNetwork, KadMessenger {
  private readonly idle = new Map<string, OpenStream[]>()
  private sweeper: ReturnType<typeof setInterval> | undefined
  private closed = false

  constructor(
    private readonly node: StreamOpener,
    private readonly protocol: string
  ) {}

  async *sendRequest(
    to: PeerId,
    msg: Request,
    options: { signal?: AbortSignal; path: Path }
  ): AsyncGenerator<QueryEvent> {
    const { path } = options
    const signal = options.signal ?? AbortSignal.timeout(DEFAULT_TIMEOUT_MS)
    const request = encode(msg)
    const response = yield* this.send(to, msg.type, path, signal, false, (open) =>
      this.roundTrip(open, { to, request, msg, signal })
    )
    if (response == null) return
    // Peer ids and addresses are parsed here, outside the stream's round trip: a malformed one fails this request
    // only (the stream stays good).
    let answered: QueryEvent
    try {
      answered = {
        name: 'PEER_RESPONSE',
        type: EventTypes.PEER_RESPONSE,
        from: to,
        messageName: msg.type,
        messageType: msg.type,
        closer: response.closer.map(peerInfo),
        providers: response.providers.map(peerInfo),
        ...(response.record != null ? { record: DhtRecord.deserialize(response.record) } : {}),
        path
      }
    } catch (err) {
      yield queryError(to, err, path)
      return
    }
    yield answered
  }

  /**
   * A message without an answer (ADD_PROVIDER), written on a reused stream, which goes back to the pool once the
   * message is written: kad-dht's handler reads the next message on it as it does after an answer. kad-dht's own
   * `sendMessage` opens, negotiates and closes a stream per message. Written is all a sender can know (kad-dht's
   * PEER_RESPONSE event for it means the same).
   */
  async *sendMessage(
    to: PeerId,
    msg: KadOneWayMessage,
    options: { signal?: AbortSignal; path: Path }
  ): AsyncGenerator<QueryEvent> {
    const { path } = options
    const signal = options.signal ?? AbortSignal.timeout(DEFAULT_TIMEOUT_MS)
    const message = encode(msg)
    const written = yield* this.send(to, msg.type, path, signal, true, (open) =>
      this.write(open, to, message, signal)
    )
    if (written == null) return
    yield {
      name: 'PEER_RESPONSE',
      type: EventTypes.PEER_RESPONSE,
      from: to,
      messageName: msg.type,
      messageType: msg.type,
      closer: [],
      providers: [],
      path
    }
  }

  /**
   * DIAL_PEER, a stream (reused, or new), SEND_QUERY and `use` of the stream: its result, or null after a
   * QUERY_ERROR. `use` failing on a reused stream (the remote dropped it meanwhile) is tried once more on a new one.
   */
  private async *send<T>(
    to: PeerId,
    type: MessageType,
    path: Path,
    signal: AbortSignal,
    confirmedOnly: boolean,
    use: (open: OpenStream) => Promise<T>
  ): AsyncGenerator<QueryEvent, T | null> {
    yield { name: 'DIAL_PEER', type: EventTypes.DIAL_PEER, peer: to, path }
    let open: OpenStream
    try {
      open = await this.take(to, signal, confirmedOnly)
    } catch (err) {
      yield queryError(to, err, path)
      return null
    }
    yield { name: 'SEND_QUERY', type: EventTypes.SEND_QUERY, to, messageName: type, messageType: type, path }
    try {
      try {
        return await use(open)
      } catch (err) {
        if (!open.reused || signal.aborted) throw err
        return await use(await this.openNew(to, signal))
      }
    } catch (err) {
      yield queryError(to, err, path)
      return null
    }
  }

  /** One message written; the stream goes back to the pool, or is aborted when the write failed. */
  private async write(open: OpenStream, to: PeerId, message: Uint8Array, signal: AbortSignal): Promise<true> {
    try {
      await open.lp.write(message, { signal })
      this.release(to.toString(), open, false)
      return true
    } catch (err) {
      open.stream.abort(err as Error)
      throw err
    }
  }

  /** Closes every idle stream and stops reusing. */
  close(): void {
    this.closed = true
    clearInterval(this.sweeper)
    for (const list of this.idle.values()) for (const open of list) closeStream(open.stream)
    this.idle.clear()
  }

  /** The stream goes back to the pool only after an answer that is this request's; it is aborted on any failure. */
  private async roundTrip(open: OpenStream, { to, request, msg, signal }: Call): Promise<Message> {
    try {
      await open.lp.write(request, { signal })
      const response = fromBinary(MessageSchema, (await open.lp.read({ signal })).subarray())
      // On a reused stream a stray answer (one too many from a confused or hostile peer) would otherwise be read
      // as the answer to the next request.
      if (kadType(response.type) !== msg.type)
        throw new Error(`answer of type ${WireType[response.type]} to a ${msg.type} request`)
      if (response.key != null && response.key.length > 0 && !equals(response.key, msg.key))
        throw new Error(`${msg.type} answer for another key`)
      this.release(to.toString(), open, true)
      return response
    } catch (err) {
      open.stream.abort(err as Error)
      throw err
    }
  }

  /** An idle stream to `to` (only a confirmed one, with `confirmedOnly`), or a new one. */
  private async take(to: PeerId, signal: AbortSignal, confirmedOnly: boolean): Promise<OpenStream> {
    const list = this.idle.get(to.toString()) ?? []
    const now = Date.now()
    for (let i = list.length - 1; i >= 0; i--) {
      const open = list[i]!
      if (!usable(open.stream) || now - open.idleSince >= IDLE_MS) {
        list.splice(i, 1)
        closeStream(open.stream)
      } else if (!confirmedOnly || open.confirmed) {
        list.splice(i, 1)
        return { ...open, reused: true }
      }
    }
    return this.openNew(to, signal)
  }

  private async openNew(to: PeerId, signal: AbortSignal): Promise<OpenStream> {
    // The protocol's name goes out with the request (one round trip less): there is one protocol to offer, and a
    // peer that does not speak it fails the request as surely as a refused negotiation would.
    const stream = await this.node.dialProtocol(to, this.protocol, { signal, negotiateFully: false })
    return { stream, lp: lpStream(stream), idleSince: 0, reused: false, confirmed: true }
  }

  private release(peer: string, open: OpenStream, confirmed: boolean): void {
    const list = this.idle.get(peer) ?? []
    if (this.closed || !usable(open.stream) || list.length >= IDLE_PER_PEER) {
      closeStream(open.stream)
      return
    }
    list.push({ ...open, idleSince: Date.now(), confirmed })
    this.idle.set(peer, list)
    if (this.sweeper == null) {
      this.sweeper = setInterval(() => this.sweep(), IDLE_MS)
      this.sweeper.unref()
    }
  }

  /** Closes streams idle for IDLE_MS or closed by the remote, so idle peers do not keep streams forever. */
  private sweep(): void {
    const now = Date.now()
    for (const [peer, list] of this.idle) {
      const keep = list.filter((open) => usable(open.stream) && now - open.idleSince < IDLE_MS)
      for (const open of list) if (!keep.includes(open)) closeStream(open.stream)
      if (keep.length > 0) this.idle.set(peer, keep)
      else this.idle.delete(peer)
    }
    if (this.idle.size === 0) {
      clearInterval(this.sweeper)
      this.sweeper = undefined
    }
  }
}

const usable = (stream: Stream): boolean =>
  stream.status === 'open' && stream.readStatus === 'readable' && stream.writeStatus === 'writable'

function closeStream(stream: Stream): void {
  stream.close().catch((err: Error) => stream.abort(err))
}

/** A request or one-way message on the wire. kad-dht's message types are the names (strings); there they are numbers. */
function encode(msg: Request | KadOneWayMessage): Uint8Array {
  return toBinary(MessageSchema, create(MessageSchema, { ...msg, type: WireType[msg.type] }))
}

/** kad-dht's message type for a wire number: kad-dht names its types by their protobuf names. */
function kadType(wire: WireType): MessageType | undefined {
  const name = WireType[wire]
  return Object.values(MessageType).find((t): t is MessageType => t === name)
}

function peerInfo(info: WirePeerInfo): PeerInfo {
  return {
    id: peerIdFromMultihash(Digest.decode(info.id)),
    multiaddrs: info.multiaddrs.map((bytes) => multiaddr(bytes))
  }
}

function queryError(from: PeerId, err: unknown, path: Path): QueryEvent {
  return {
    name: 'QUERY_ERROR',
    type: EventTypes.QUERY_ERROR,
    from,
    error: err instanceof Error ? err : new Error(String(err)),
    path
  }
}
