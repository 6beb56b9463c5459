/**
 * The peer store's write-back cache over a real LevelDB on disk: reads see writes at once, queries see them too,
 * deletes hide a record, and close() leaves on disk what was in memory.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Key } from 'interface-datastore'
import { LevelDatastore } from 'datastore-level'
import { afterEach, describe, expect, it } from 'vitest'
import { withPeerStoreCache } from '../../../src/main/peer/peer-store-cache.ts'
import { tempDir } from '../../helpers/swarm.ts'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
// LevelDB hands back Buffers: compare as text.
const text = (value: Uint8Array): string => new TextDecoder().decode(value)

describe('peer store cache', () => {
  const dirs: string[] = []
  const open = async (dir?: string) => {
    const path = dir ?? join(await tempDir(), 'ds')
    dirs.push(path)
    const store = new LevelDatastore(path)
    await store.open()
    return { path, store, cache: withPeerStoreCache(store) }
  }
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
  })

  it('serves peer records from memory, shows them to queries, and persists them on close', async () => {
    const { path, store, cache } = await open()
    const peer = new Key('/peers/abc')
    await cache.datastore.put(peer, bytes('v1'))
    await cache.datastore.put(peer, bytes('v2'))
    expect(text(await cache.datastore.get(peer))).toBe('v2')
    expect(await store.has(peer)).toBe(false) // not written yet: batched
    const listed = []
    for await (const entry of cache.datastore.query({ prefix: '/peers/' })) listed.push(entry)
    expect(listed.map((e) => [e.key.toString(), text(e.value)])).toEqual([['/peers/abc', 'v2']])

    await cache.datastore.put(new Key('/peers/gone'), bytes('x'))
    await cache.datastore.delete(new Key('/peers/gone'))
    expect(await cache.datastore.has(new Key('/peers/gone'))).toBe(false)
    await expect(cache.datastore.get(new Key('/peers/gone'))).rejects.toMatchObject({ name: 'NotFoundError' })

    await cache.close()
    await store.close()
    const reopened = await open(path)
    expect(text(await reopened.store.get(peer))).toBe('v2')
    expect(await reopened.store.has(new Key('/peers/gone'))).toBe(false)
    await reopened.cache.close()
    await reopened.store.close()
  })

  it('writes everything outside the peer store straight to disk', async () => {
    const { store, cache } = await open()
    const record = new Key('/dht/record/xyz')
    await cache.datastore.put(record, bytes('r'))
    expect(text(await store.get(record))).toBe('r')
    await cache.close()
    await store.close()
  })
})
