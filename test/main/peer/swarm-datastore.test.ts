/**
 * SwarmDatastore's index of the record keys it holds, over a real LevelDB on disk: a record it does not hold is
 * answered without a LevelDB read, and no way of writing a record (put, an aborted put that lands all the same, a
 * batch, a reopen) leaves one unreadable.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Key } from 'interface-datastore'
import { afterEach, describe, expect, it } from 'vitest'
import { SwarmDatastore } from '../../../src/main/peer/swarm-datastore.ts'
import { tempDir } from '../../helpers/swarm.ts'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
// LevelDB hands back Buffers: compare as text.
const text = (value: Uint8Array): string => new TextDecoder().decode(value)
const record = (name: string): Key => new Key(`/dht/record/${name}`)

/** The LevelDB handle under the datastore, whose reads and writes the tests count and hold. */
interface LevelHandle {
  get(key: string): Promise<Uint8Array | undefined>
  put(key: string, value: Uint8Array): Promise<void>
}

describe('swarm datastore record index', () => {
  const dirs: string[] = []
  const open = async (dir?: string) => {
    let path = dir
    if (path == null) {
      const parent = await tempDir()
      dirs.push(parent)
      path = join(parent, 'ds')
    }
    const store = new SwarmDatastore(path, 8)
    await store.open()
    const level = (store as unknown as { db: LevelHandle }).db
    const reads: string[] = []
    const get = level.get.bind(level)
    level.get = async (key) => {
      reads.push(key)
      return get(key)
    }
    return { path, store, level, reads }
  }
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
  })

  it('answers a record it does not hold without reading LevelDB, and reads those it holds', async () => {
    const { store, reads } = await open()
    await expect(store.get(record('absent'))).rejects.toMatchObject({ name: 'NotFoundError' })
    expect(await store.has(record('absent'))).toBe(false)
    expect(reads).toEqual([])

    await store.put(record('held'), bytes('v1'))
    expect(text(await store.get(record('held')))).toBe('v1')
    expect(await store.has(record('held'))).toBe(true)
    expect(reads).toEqual(['/dht/record/held', '/dht/record/held'])

    // Other keys go to LevelDB as before.
    await expect(store.get(new Key('/dht/provider/x/y'))).rejects.toMatchObject({ name: 'NotFoundError' })
    expect(reads).toHaveLength(3)
    await store.close()
  })

  it('reads the records a reopened store held before', async () => {
    const first = await open()
    await first.store.put(record('kept'), bytes('v1'))
    await first.store.close()
    const { store } = await open(first.path)
    expect(text(await store.get(record('kept')))).toBe('v1')
    await expect(store.get(record('never'))).rejects.toMatchObject({ name: 'NotFoundError' })
    await store.close()
  })

  it('reads the records held after the same store is closed and opened again', async () => {
    const { store } = await open()
    await store.put(record('kept'), bytes('v1'))
    await store.close()
    await store.open()
    expect(text(await store.get(record('kept')))).toBe('v1')
    await expect(store.get(record('never'))).rejects.toMatchObject({ name: 'NotFoundError' })
    await store.close()
  })

  it('fails an aborted read of a record it does not hold as LevelDB reads fail', async () => {
    const { store } = await open()
    const aborted = new AbortController()
    aborted.abort()
    await expect(store.get(record('absent'), { signal: aborted.signal })).rejects.toMatchObject({
      name: 'GetFailedError'
    })
    await store.put(record('held'), bytes('v1'))
    await expect(store.get(record('held'), { signal: aborted.signal })).rejects.toMatchObject({
      name: 'GetFailedError'
    })
    await store.close()
  })

  it('reads a record whose put was aborted after its write had started (LevelDB may hold it all the same)', async () => {
    const { store, level } = await open()
    const aborted = new AbortController()
    const put = level.put.bind(level)
    let landing: Promise<void> | undefined
    level.put = async (key, value) => {
      landing = put(key, value)
      aborted.abort() // the caller gives up while the write is under way; it lands anyway
      return landing
    }
    await expect(store.put(record('late'), bytes('v1'), { signal: aborted.signal })).rejects.toThrow()
    await landing
    expect(text(await store.get(record('late')))).toBe('v1')
    await store.close()
  })

  it('reads the records a batch wrote', async () => {
    const { store } = await open()
    const batch = store.batch()
    batch.put(record('batched'), bytes('v1'))
    batch.put(new Key('/peers/p'), bytes('peer'))
    await batch.commit()
    expect(text(await store.get(record('batched')))).toBe('v1')
    expect(text(await store.get(new Key('/peers/p')))).toBe('peer')
    await store.close()
  })
})
