import { generateKey } from '@libp2p/pnet'
import { writeFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { parseSwarmKey } from '../../../src/main/peer/swarm-key.ts'
import type { SwarmPeer } from '../../../src/main/peer/swarm-peer.ts'
import { cli } from '../../helpers/processes.ts'
import { spawnPeer, teardown, tempDir, waitFor } from '../../helpers/swarm.ts'

const newKey = (): string => {
  const bytes = new Uint8Array(95)
  generateKey(bytes)
  return new TextDecoder().decode(bytes)
}

describe('swarm keys', () => {
  test('the swarm.key format is read, in base16 or base64, with a fingerprint', () => {
    const key = newKey()
    const parsed = parseSwarmKey(key)
    expect(parsed.fingerprint).toMatch(/^[0-9a-f]{8}$/)
    expect(new TextDecoder().decode(parsed.file)).toBe(key)
    const hex = key.split('\n')[2]!
    const b64 = `/key/swarm/psk/1.0.0/\n/base64/\n${Buffer.from(hex, 'hex').toString('base64')}\n`
    expect(parseSwarmKey(b64).fingerprint).toBe(parsed.fingerprint)
  })

  test('a malformed key is refused, saying why', () => {
    const hex = 'ab'.repeat(32)
    expect(() => parseSwarmKey(`/key/swarm/psk/2.0.0/\n/base16/\n${hex}`)).toThrow(/first line must be/)
    expect(() => parseSwarmKey(`/key/swarm/psk/1.0.0/\n/bin/\n${hex}`)).toThrow(/second line must be/)
    expect(() => parseSwarmKey(`/key/swarm/psk/1.0.0/\n/base16/\n${hex.slice(2)}`)).toThrow(
      /must be 32 bytes, not 31/
    )
    expect(() => parseSwarmKey(`/key/swarm/psk/1.0.0/\n/base16/\n${'zz'.repeat(32)}`)).toThrow(
      /not valid hex/
    )
    expect(() => parseSwarmKey(`/key/swarm/psk/1.0.0/\n/base16/\n${hex}\nextra`)).toThrow(
      /exactly three lines/
    )
    expect(() => parseSwarmKey('')).toThrow(/first line/)
  })
})

describe('private swarms', () => {
  const peers: SwarmPeer[] = []
  afterAll(async () => teardown(peers))

  test('swarms with different keys never connect; a peer with the right key joins; one without is refused', async () => {
    const [key1, key2] = [newKey(), newKey()]
    const a = await spawnPeer({ swarmKey: key1 })
    const b = await spawnPeer({ swarmKey: key2 })
    const open = await spawnPeer()
    peers.push(a, b, open)
    const aAddr = a.node.getMultiaddrs()[0]!.toString()
    expect((await a.nodeInfo({}, {})).privateSwarm).toBe(parseSwarmKey(key1).fingerprint)
    expect((await open.nodeInfo({}, {})).privateSwarm).toBeNull()

    await expect(b.dial({ multiaddr: aAddr }, {})).rejects.toThrow(/dial .* failed/)
    await expect(open.dial({ multiaddr: aAddr }, {})).rejects.toThrow(/dial .* failed/)
    await expect(a.dial({ multiaddr: open.node.getMultiaddrs()[0]!.toString() }, {})).rejects.toThrow(
      /dial .* failed/
    )

    const c = await spawnPeer({ swarmKey: key1, bootstrap: [aAddr] })
    peers.push(c)
    await waitFor(async () => (await a.routingTable({}, {})).size === 1, 'the keyed peer to join')
    expect((await a.routingTable({}, {})).buckets[0]!.peers[0]!.peerId).toBe(c.peerId.toString())
    expect((await b.connections({}, {})).length).toBe(0)
    expect((await open.connections({}, {})).length).toBe(0)
    // Records flow inside the private swarm.
    await c.putRecord({ topic: 't', key: 'k', value: new TextEncoder().encode('inside') }, {})
    expect((await a.getRecord({ topic: 't', key: 'k' }, {})).record?.publisher).toBe(c.peerId.toString())
  })

  test('serve refuses a malformed key file with a clear message (exit 2)', async () => {
    const dir = await tempDir()
    try {
      const file = join(dir, 'swarm.key')
      await writeFile(file, '/key/swarm/psk/1.0.0/\n/base16/\nnot-a-key\n')
      const result = await cli([
        'serve',
        '--data',
        join(dir, 'data'),
        '--swarm-key',
        file,
        '--no-mdns',
        '--api',
        '127.0.0.1:0'
      ])
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/swarm\.key: swarm key: the key is not valid hex/)
      const missing = await cli([
        'serve',
        '--data',
        join(dir, 'data'),
        '--swarm-key',
        join(dir, 'nope.key'),
        '--api',
        '127.0.0.1:0'
      ])
      expect(missing.code).toBe(2)
      expect(missing.stderr).toMatch(/cannot read the swarm key file .*nope\.key: ENOENT/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
