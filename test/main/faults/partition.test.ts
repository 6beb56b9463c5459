/**
 * Partition and heal, in network namespaces: two hosts (namespaces a and b) on one bridge, two `serve` peers each.
 * While host b's bridge port is down the two sides cannot reach each other (the peers of one side still can), and
 * each side writes its own records. After the port comes back up, every record written on either side must reach
 * every peer's own store with no help from the test (reconnecting and republishing, every 2 s here, are the peers'
 * job), and a lookup from every peer must find it.
 *
 * The peers really live in their namespaces (`ip netns exec`), listen on their host's address, and serve their API
 * on that namespace's loopback; the test reaches the APIs through a relay process running in each namespace.
 * Needs root and `ip netns`; skipped with the reason otherwise.
 */
import { rm, stat } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { PeerApiClient } from '../../../src/shared/api-contract.ts'
import { createHttpClient } from '../../../src/shared/http-client.ts'
import { NetnsLab, netnsUnavailable } from '../../helpers/netns.ts'
import { startServe, type ServeProcess } from '../../helpers/processes.ts'
import { tempDir, waitFor } from '../../helpers/swarm.ts'

const unavailable = netnsUnavailable()
const TOPIC = 'partition'
const REPUBLISH_SECONDS = 2
const HEAL_TIMEOUT_MS = 60_000

interface Peer {
  name: string
  side: 'a' | 'b'
  serve: ServeProcess
  api: PeerApiClient
}

const lab = new NetnsLab()
const peers: Peer[] = []
const dirs: string[] = []
/** Every record written: key to value. */
const written = new Map<string, string>()
const nonce = Math.random().toString(36).slice(2)

const encode = (text: string): Uint8Array => new TextEncoder().encode(text)
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
const peer = (name: string): Peer => peers.find((p) => p.name === name)!
const side = (s: 'a' | 'b'): Peer[] => peers.filter((p) => p.side === s)

async function put(on: Peer, key: string): Promise<void> {
  const value = `${key} written on ${on.name} (${nonce})`
  await on.api.putRecord({ topic: TOPIC, key, value: encode(value) })
  written.set(key, value)
}

/** What a peer reads for a key through a DHT lookup: the value, null when not found, or the error. */
async function read(from: Peer, key: string): Promise<string | null> {
  try {
    const { record } = await from.api.getRecord({ topic: TOPIC, key })
    return record != null ? decode(record.value) : null
  } catch (err) {
    return `error: ${(err as Error).message}`
  }
}

/** The (peer, key) pairs that do not read the written value yet. */
async function unreadable(readers: Peer[], keys: string[]): Promise<string[]> {
  const checks = readers.flatMap((p) =>
    keys.map(async (key) => ((await read(p, key)) === written.get(key) ? null : `${p.name}:${key}`))
  )
  return (await Promise.all(checks)).filter((x): x is string => x != null)
}

/** The (peer, key) pairs whose local store (no lookup) does not hold the written value. */
async function notHeld(holders: Peer[], keys: string[]): Promise<string[]> {
  const out: string[] = []
  for (const p of holders) {
    const stored = new Map(
      (await p.api.records({ topic: TOPIC })).map((r) => [r.keyDisplay, decode(r.value)])
    )
    for (const key of keys) if (stored.get(key) !== written.get(key)) out.push(`${p.name}:${key}`)
  }
  return out
}

/** Who is connected to whom and who is in whose routing table, by name (for failure messages). */
async function describeSwarm(): Promise<string> {
  const name = (id: string): string => peers.find((q) => q.serve.peerId === id)?.name ?? id
  const lines = await Promise.all(
    peers.map(async (p) => {
      const conns = (await p.api.connections({})).map((c) => name(c.peerId))
      const table = (await p.api.routingTable({})).buckets.flatMap((b) => b.peers.map((x) => name(x.peerId)))
      return `${p.name}: connected to [${conns.join(', ')}], routing table [${table.join(', ')}]`
    })
  )
  return lines.join('\n')
}

/** Whether a peer has an open connection to at least one of the others. */
const connectedTo = async (p: Peer, others: Peer[]): Promise<boolean> => {
  const ids = new Set((await p.api.connections({})).map((c) => c.peerId))
  return others.some((o) => ids.has(o.serve.peerId))
}

describe.skipIf(unavailable != null)(
  `partition and heal in network namespaces${unavailable != null ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    beforeAll(async () => {
      await lab.create(['a', 'b'])
      const fetchIn = { a: lab.fetchIn('a'), b: lab.fetchIn('b') }
      const start = async (name: string, s: 'a' | 'b', port: number, bootstrap: string[]): Promise<Peer> => {
        const dir = await tempDir('swarm-inspector-partition-')
        dirs.push(dir)
        const serve = await startServe(
          dir,
          [
            '--listen',
            `/ip4/${lab.host(s).address}/tcp/${port}`,
            '--republish-interval',
            String(REPUBLISH_SECONDS),
            '--no-bridge',
            ...bootstrap.flatMap((b) => ['--bootstrap', b])
          ],
          { prefix: lab.prefix(s) }
        )
        const p: Peer = {
          name,
          side: s,
          serve,
          api: createHttpClient({ baseUrl: serve.url, fetch: fetchIn[s] })
        }
        peers.push(p)
        return p
      }
      const a1 = await start('a1', 'a', 4101, [])
      const seed = a1.serve.addresses[0]!
      const [, b1] = await Promise.all([start('a2', 'a', 4102, [seed]), start('b1', 'b', 4101, [seed])])
      await start('b2', 'b', 4102, [seed, b1.serve.addresses[0]!])
    })

    afterAll(async () => {
      await Promise.all(peers.map((p) => p.serve.stop('SIGKILL')))
      await lab.destroy()
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
    })

    test('the peers live in their namespaces and join into one swarm', async () => {
      for (const p of peers) {
        // `ip netns exec` execs serve in place: the process itself is in the namespace (same network ns inode).
        const [mine, theirs] = await Promise.all([
          stat(`/proc/${p.serve.child.pid}/ns/net`),
          stat(`/run/netns/${lab.host(p.side).ns}`)
        ])
        expect(mine.ino, `${p.name} runs in its namespace`).toBe(theirs.ino)
        expect(p.serve.addresses[0]).toMatch(new RegExp(`^/ip4/${lab.host(p.side).address}/tcp/\\d+/p2p/`))
        expect(p.serve.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      }
      await waitFor(
        async () =>
          (await Promise.all(peers.map(async (p) => (await p.api.routingTable({})).size))).every(
            (n) => n >= 3
          ),
        'every routing table to hold the 3 other peers'
      )
      await put(peer('a1'), 'before')
      expect(await unreadable(peers, ['before'])).toEqual([])
    })

    test('partitioned: each side writes and reads its own records, the other side does not see them', async () => {
      const cutAt = Date.now()
      await lab.setLink('b', 'down')
      // The cut is seen by the peers: side a loses its connections to side b (libp2p's connection monitor pings).
      await waitFor(
        async () => {
          const conns = await Promise.all(
            side('a').map(async (p) => (await p.api.connections({})).map((c) => c.peerId))
          )
          return conns.flat().every((id) => !side('b').some((b) => b.serve.peerId === id))
        },
        'side a to drop its connections to side b',
        45_000
      )
      console.info(`partition: side a dropped side b ${Date.now() - cutAt} ms after the cut`)

      await Promise.all([put(peer('a1'), 'during-a'), put(peer('b1'), 'during-b')])
      // Each side reads what it wrote there...
      expect(await unreadable(side('a'), ['during-a'])).toEqual([])
      expect(await unreadable(side('b'), ['during-b'])).toEqual([])
      // ...and, the partition being real, not what the other side wrote.
      expect(await read(peer('a2'), 'during-b')).toBeNull()
      expect(await read(peer('b2'), 'during-a')).toBeNull()
      console.info(`partition: lasted ${Date.now() - cutAt} ms`)
    }, 75_000)

    test('healed: the sides reconnect, republishing replicates every record to every peer, lookups find them', async () => {
      const healedAt = Date.now()
      await lab.setLink('b', 'up')
      const keys = [...written.keys()]
      const since = (): string => `${Date.now() - healedAt} ms after the heal`

      // First without the test dialling anything: `records` and `connections` only read the peer's own state, so
      // whatever reconnects the sides and copies the records over is the peers' own doing (republish every 2 s).
      let missing: string[] = []
      await waitFor(
        async () => (missing = await notHeld(peers, keys)).length === 0,
        'every peer to hold every record in its own store',
        HEAL_TIMEOUT_MS
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}; not held: ${missing.join(' ')}\n${await describeSwarm()}`)
      })
      console.info(`heal: every record stored on every peer ${since()}`)
      // The republishers' dials reconnect the sides: every peer is connected across again. (A full mesh is not
      // promised: a pair neither of which has a reason to dial is only redialled by libp2p's keep-alive reconnect
      // queue, which gives up about 30 s after the connection dropped.)
      await waitFor(
        async () =>
          (await Promise.all(peers.map((p) => connectedTo(p, p.side === 'a' ? side('b') : side('a'))))).every(
            Boolean
          ),
        'every peer to be connected to the other side again',
        10_000
      )
      console.info(`heal: connections after ${since()}\n${await describeSwarm()}`)

      // Then through the DHT: a lookup from any peer finds the value written on either side.
      await waitFor(
        async () => (missing = await unreadable(peers, keys)).length === 0,
        'every record to be readable everywhere',
        20_000
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}; still unreadable: ${missing.join(' ')}\n${await describeSwarm()}`)
      })
      console.info(`heal: every record readable from every peer ${since()}`)
    }, 90_000)
  }
)
