/**
 * The patches under patches/ (applied by patch-package after every install): each is checked for the behaviour it
 * changes, against the real yamux muxer and @libp2p/utils' real length-prefixed readers, so a patch that stopped
 * applying (or an upgrade that dropped it) fails here rather than only in the bench's figures.
 */
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Stream } from '@libp2p/interface'
import { LengthPrefixedDecoder, lpStream, multiaddrConnectionPair, streamPair } from '@libp2p/utils'
import * as varint from 'uint8-varint'
import { afterEach, describe, expect, test } from 'vitest'

/** Yamux frame types (the spec's): a header is version, type, flags (2 bytes), stream id (4), length (4). */
const DATA = 0
const WINDOW_UPDATE = 1

/** Counts the yamux frames one end writes, by type, and the window-update frames that carry no flag. */
function frameCounter(): {
  onChunk: (chunk: { subarray: () => Uint8Array }) => void
  data: number
  grants: number
} {
  const counts = { data: 0, grants: 0 }
  let pending = new Uint8Array(0)
  return {
    onChunk(chunk) {
      const bytes = chunk.subarray()
      const joined = new Uint8Array(pending.byteLength + bytes.byteLength)
      joined.set(pending)
      joined.set(bytes, pending.byteLength)
      pending = joined
      while (pending.byteLength >= 12) {
        const view = new DataView(pending.buffer, pending.byteOffset, 12)
        const type = view.getUint8(1)
        const flags = view.getUint16(2)
        const length = view.getUint32(8)
        const frameLength = type === DATA ? 12 + length : 12
        if (pending.byteLength < frameLength) return
        pending = pending.subarray(frameLength)
        if (type === DATA) counts.data++
        if (type === WINDOW_UPDATE && flags === 0) counts.grants++
      }
    },
    get data() {
      return counts.data
    },
    get grants() {
      return counts.grants
    }
  }
}

/** Two yamux muxers over an in-memory connection; what each end writes goes through a frame counter. */
async function yamuxPair(listenerInit: Parameters<typeof yamux>[0] = {}): Promise<{
  outbound: Stream
  /** The listener's end, once the dialer's SYN has arrived. */
  inbound: Promise<Stream>
  fromOutbound: ReturnType<typeof frameCounter>
  fromInbound: ReturnType<typeof frameCounter>
  close: () => Promise<void>
}> {
  const [outboundConn, inboundConn] = multiaddrConnectionPair()
  const fromOutbound = frameCounter()
  const fromInbound = frameCounter()
  inboundConn.addEventListener('message', (event) => fromOutbound.onChunk(event.data))
  outboundConn.addEventListener('message', (event) => fromInbound.onChunk(event.data))
  const dialer = yamux()().createStreamMuxer(outboundConn)
  const listener = yamux(listenerInit)().createStreamMuxer(inboundConn)
  const inbound = new Promise<Stream>((resolve) =>
    listener.addEventListener('stream', (event) => resolve(event.detail), { once: true })
  )
  const outbound = await dialer.createStream()
  return {
    outbound,
    inbound,
    fromOutbound,
    fromInbound,
    close: async () => {
      await Promise.all([dialer.close(), listener.close()])
      await Promise.all([outboundConn.close(), inboundConn.close()])
    }
  }
}

describe('yamux grants more window once 128 KiB (half the spec window) has arrived, as go-yamux and rust-yamux wait for half a window', () => {
  test('a hundred small requests and answers on one stream cost no window updates', async () => {
    const { outbound, inbound, fromOutbound, fromInbound, close } = await yamuxPair()
    try {
      const asker = lpStream(outbound)
      let answerer: ReturnType<typeof lpStream> | undefined
      for (let i = 0; i < 100; i++) {
        await asker.write(new Uint8Array(200).fill(i))
        answerer ??= lpStream(await inbound)
        const request = await answerer.read()
        expect(request.subarray()[0]).toBe(i)
        await answerer.write(new Uint8Array(300).fill(i))
        expect((await asker.read()).byteLength).toBe(300)
      }
      expect(fromOutbound.data).toBe(100)
      expect(fromInbound.data).toBe(100)
      // Unpatched, each end granted the other's frame back at once: about a hundred updates each way.
      expect(fromOutbound.grants).toBe(0)
      expect(fromInbound.grants).toBe(0)
    } finally {
      await close()
    }
  })

  // 1 MiB: a listener whose own window is larger than the spec's 256 KiB, which the dialer starts from; granting at
  // half of the listener's window left the dialer stuck after 320 KiB (the spec's 256 and the first chunk, which the
  // ACK granted back).
  test.each([undefined, 1024 * 1024])(
    'a transfer of many windows still flows, granted in halves (listener window %s)',
    async (window) => {
      const { outbound, inbound, fromInbound, close } = await yamuxPair(
        window == null ? {} : { streamOptions: { initialStreamWindowSize: window } }
      )
      try {
        const total = 4 * 1024 * 1024 // sixteen times the 256 KiB initial window
        const received = (async () => {
          let bytes = 0
          for await (const chunk of await inbound) {
            bytes += chunk.byteLength
            if (bytes >= total) break
          }
          return bytes
        })()
        const chunk = new Uint8Array(64 * 1024)
        const sending = (async () => {
          for (let sent = 0; sent < total; sent += chunk.byteLength) {
            if (!outbound.send(chunk))
              await new Promise((resolve) => outbound.addEventListener('drain', resolve, { once: true }))
          }
        })()
        // A stalled transfer (the sender out of window, no grant coming) fails here rather than at the test timeout.
        const stalled = new Promise<string>((resolve) => setTimeout(() => resolve('stalled'), 10_000).unref())
        const arrived = Promise.all([sending, received]).then(([, bytes]) => bytes)
        expect(await Promise.race([arrived, stalled])).toBe(total)
        // At most one grant per 128 KiB received, and far fewer than one per frame.
        expect(fromInbound.grants).toBeGreaterThan(0)
        expect(fromInbound.grants).toBeLessThanOrEqual(total / (128 * 1024))
      } finally {
        await close()
      }
    }
  )
})

describe('length-prefixed reads do not throw and catch an error per message', () => {
  const NativeRangeError = globalThis.RangeError
  let made = 0
  // The readers signal "not enough bytes yet" with a RangeError they catch; counting the ones built shows whether
  // a read took that path (each costs a stack trace). A proxy, so that RangeError('…') without `new` still works and
  // RangeErrors built natively still pass `instanceof RangeError` while it stands in.
  const CountedRangeError = new Proxy(NativeRangeError, {
    construct(target, args, newTarget) {
      made++
      return Reflect.construct(target, args, newTarget) as object
    },
    apply(target, thisArg, args) {
      made++
      return Reflect.apply(target, thisArg, args) as unknown
    }
  })
  const counting = (): void => {
    made = 0
    Reflect.set(globalThis, 'RangeError', CountedRangeError)
  }
  afterEach(() => {
    Reflect.set(globalThis, 'RangeError', NativeRangeError)
  })

  test('lpStream reads messages with two-byte length prefixes without one', async () => {
    const [a, b] = await streamPair()
    try {
      const writer = lpStream(a)
      const reader = lpStream(b)
      counting()
      for (let i = 0; i < 20; i++) {
        await writer.write(new Uint8Array(300).fill(i))
        const message = await reader.read()
        expect(message.byteLength).toBe(300)
        expect(message.subarray()[299]).toBe(i)
      }
      expect(made).toBe(0)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  test('LengthPrefixedDecoder decodes chunks of whole frames without one, and still waits on a split prefix', () => {
    const decoder = new LengthPrefixedDecoder()
    const frame = (size: number, fill: number): Uint8Array => {
      const body = new Uint8Array(size).fill(fill)
      const prefix = varint.encode(size)
      const out = new Uint8Array(prefix.byteLength + size)
      out.set(prefix)
      out.set(body, prefix.byteLength)
      return out
    }
    counting()
    for (let i = 0; i < 20; i++)
      expect([...decoder.decode(frame(200, i))].map((m) => m.byteLength)).toEqual([200])
    expect(made).toBe(0)
    // A prefix split across chunks still decodes once its last byte arrives (that path still uses the RangeError).
    const split = frame(300, 7)
    expect([...decoder.decode(split.subarray(0, 1))]).toEqual([])
    expect([...decoder.decode(split.subarray(1))].map((m) => m.byteLength)).toEqual([300])
  })
})
