/**
 * Finds dead connections with yamux PING frames, in place of libp2p's connection monitor.
 *
 * libp2p's monitor opens a ping *stream* on every connection every 10 s: a yamux stream opened and closed, protocol
 * negotiation, a peer-store merge on each side and a dozen encrypted frames. In an idle 40-peer swarm in one process
 * (193 connections) that was about 100 of the 135 ms of CPU spent per second, and it grows with every connection a
 * peer keeps open, which is exactly what one-round lookups want many of. A yamux PING is one 12-byte frame each way,
 * answered inside the muxer.
 *
 * The duty stays the same: a connection whose ping is not answered in time is aborted, so a partition is noticed
 * (the partition test waits for it) and the peer stops writing into a socket nobody reads. Yamux's own keep-alive is
 * switched off: it pings every 30 s on a timer per connection, never times out and never aborts.
 *
 * A connection that has received anything since the last round is alive and is not pinged this round. Besides
 * sparing busy connections, this halves the pings of idle ones or better: a ping reaches one end and its answer the
 * other, so each spares both ends' next round. The two ends of an idle connection then make one ping a round
 * between them when their rounds fall together, two in three rounds when they do not, where each end pinging every
 * round made two. A peer that keeps a connection to every peer of its table (table-mesh.ts) holds a hundred of them
 * in a 100-peer swarm, and their pings were nine tenths of an idle swarm's CPU. A dead connection is still aborted:
 * one to two rounds after the last thing it received, plus the timeout. (An end that keeps receiving while what it
 * sends is lost never pings; the other end, receiving nothing, aborts the connection.)
 */
import { yamux, type YamuxMuxerInit } from '@chainsafe/libp2p-yamux'
import { setMaxListeners } from 'node:events'
import type { MessageStream } from '@libp2p/interface'

export interface LivenessInit {
  /** How often every connection is pinged. */
  intervalMs: number
  /** How long a ping may go unanswered before the connection is aborted. */
  timeoutMs: number
  /** Told after each round how many connections it pinged (for tests and measurements). */
  onRound?: (pinged: number) => void
}

type YamuxFactory = ReturnType<ReturnType<typeof yamux>>
type YamuxMuxer = ReturnType<YamuxFactory['createStreamMuxer']>

interface Watched {
  muxer: YamuxMuxer
  /** The (encrypted) connection stream under the muxer: aborting it closes the connection. */
  stream: MessageStream
  /** Messages the connection has received, and how many it had at the last round. */
  received: number
  receivedAtLastRound: number
}

/** A yamux muxer factory, for `streamMuxers`, whose connections are pinged and aborted when they stop answering. */
export function yamuxWithLiveness(
  liveness: LivenessInit,
  init: YamuxMuxerInit = {}
): ReturnType<typeof yamux> {
  const base = yamux({ ...init, enableKeepAlive: false })
  const watched = new Set<Watched>()
  let timer: ReturnType<typeof setInterval> | undefined

  const pingAll = (): void => {
    // One deadline for the whole round rather than a timer per connection.
    const deadline = AbortSignal.timeout(liveness.timeoutMs)
    setMaxListeners(Infinity, deadline)
    let pinged = 0
    for (const entry of watched) {
      const { muxer, stream } = entry
      if (muxer.status !== 'open') {
        watched.delete(entry)
        continue
      }
      if (entry.received !== entry.receivedAtLastRound) {
        entry.receivedAtLastRound = entry.received
        continue
      }
      pinged++
      muxer.ping({ signal: deadline }).catch(() => {
        if (muxer.status !== 'open') return
        stream.abort(new Error(`connection did not answer a ping within ${liveness.timeoutMs} ms`))
      })
    }
    liveness.onRound?.(pinged)
    if (watched.size === 0) {
      clearInterval(timer)
      timer = undefined
    }
  }

  return () => {
    // The factory itself is kept (its capabilities tell libp2p a muxer is configured); only its muxers are watched.
    const factory = base()
    const create = factory.createStreamMuxer.bind(factory)
    factory.createStreamMuxer = (stream: MessageStream): YamuxMuxer => {
      const muxer = create(stream)
      const entry: Watched = { muxer, stream, received: 0, receivedAtLastRound: 0 }
      stream.addEventListener('message', () => entry.received++)
      watched.add(entry)
      if (timer == null) {
        timer = setInterval(pingAll, liveness.intervalMs)
        // Connections keep a process alive, not their pings.
        timer.unref()
      }
      return muxer
    }
    return factory
  }
}
