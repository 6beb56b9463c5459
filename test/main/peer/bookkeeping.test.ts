/**
 * The published mark a put writes while it runs (Bookkeeping.publishing), over a real LevelDB on disk: a put that
 * succeeds leaves the key marked, one that fails leaves it as it found it, and puts of one key that overlap share
 * the mark.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { LevelDatastore } from 'datastore-level'
import { afterEach, describe, expect, it } from 'vitest'
import { Bookkeeping } from '../../../src/main/peer/bookkeeping.ts'
import { utf8 } from '../../../src/shared/bytes.ts'
import { tempDir } from '../../helpers/swarm.ts'

const dhtKey = utf8.encode('/swarm/topic/key')
const entry = { topic: 'topic', key: utf8.encode('key') }

/** A put whose outcome the test decides: `settle(true)` succeeds with 'stored', `settle(false)` fails. */
function controlledPut(): { put: () => Promise<string>; settle: (ok: boolean) => void } {
  let settle: (ok: boolean) => void = () => {}
  const outcome = new Promise<boolean>((resolve) => (settle = resolve))
  return {
    put: async () => {
      if (!(await outcome)) throw new Error('put failed')
      return 'stored'
    },
    settle: (ok) => settle(ok)
  }
}

describe('a put marks its key as published while it runs', () => {
  const dirs: string[] = []
  const open = async () => {
    const path = join(await tempDir(), 'ds')
    dirs.push(path)
    const store = new LevelDatastore(path)
    await store.open()
    return new Bookkeeping(store)
  }
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
  })

  it('marks the key before the put ends, and returns the put result once the mark is written', async () => {
    const book = await open()
    const { put, settle } = controlledPut()
    const putting = book.publishing(dhtKey, entry, put)
    await expect.poll(() => book.isPublished(dhtKey)).toBe(true)
    settle(true)
    await expect(putting).resolves.toBe('stored')
    expect(await book.isPublished(dhtKey)).toBe(true)
    const published = []
    for await (const e of book.published()) published.push(e)
    expect(published).toEqual([{ topic: 'topic', key: entry.key }])
  })

  it('takes the mark back when the put fails, and keeps one that was there before', async () => {
    const book = await open()
    const { put, settle } = controlledPut()
    const putting = book.publishing(dhtKey, entry, put)
    // Failing once the mark is written, as a put whose round fails does.
    await expect.poll(() => book.isPublished(dhtKey)).toBe(true)
    settle(false)
    await expect(putting).rejects.toThrow('put failed')
    expect(await book.isPublished(dhtKey)).toBe(false)
    // Failing before the mark is written: it is taken back after it lands, before the failure is reported.
    await expect(book.publishing(dhtKey, entry, () => Promise.reject(new Error('no peers')))).rejects.toThrow(
      'no peers'
    )
    expect(await book.isPublished(dhtKey)).toBe(false)

    await book.publishing(dhtKey, entry, async () => 'stored')
    await expect(book.publishing(dhtKey, entry, () => Promise.reject(new Error('aborted')))).rejects.toThrow(
      'aborted'
    )
    expect(await book.isPublished(dhtKey)).toBe(true)
  })

  it('keeps the mark when one of two overlapping puts fails and the other succeeds, in either order', async () => {
    for (const failsFirst of [true, false]) {
      const book = await open()
      const a = controlledPut()
      const b = controlledPut()
      const first = book.publishing(dhtKey, entry, a.put)
      const second = book.publishing(dhtKey, entry, b.put)
      const [failing, succeeding] = failsFirst ? [a, b] : [b, a]
      const [failed, succeeded] = failsFirst ? [first, second] : [second, first]
      if (failsFirst) {
        failing.settle(false)
        await expect(failed).rejects.toThrow('put failed')
        succeeding.settle(true)
        await expect(succeeded).resolves.toBe('stored')
      } else {
        succeeding.settle(true)
        await expect(succeeded).resolves.toBe('stored')
        failing.settle(false)
        await expect(failed).rejects.toThrow('put failed')
      }
      expect(await book.isPublished(dhtKey), failsFirst ? 'failed first' : 'failed last').toBe(true)
    }
  })

  it('marks the key anew for a put that starts while a failed one is taking its mark back', async () => {
    const book = await open()
    const failing = controlledPut()
    const failed = book.publishing(dhtKey, entry, failing.put)
    failing.settle(false)
    // The failed put lets go of the shared mark at once (microtasks), and takes it back after the mark's own read
    // and write, which need LevelDB's thread pool: the next put starts in between.
    const internals = book as unknown as { marking: Map<string, unknown>; lastMarkOp: Map<string, unknown> }
    for (let i = 0; i < 100 && internals.marking.size > 0; i++) await Promise.resolve()
    expect(internals.marking.size).toBe(0)
    expect(internals.lastMarkOp.size).toBe(1)
    const next = book.publishing(dhtKey, entry, async () => 'stored')
    await expect(failed).rejects.toThrow('put failed')
    await expect(next).resolves.toBe('stored')
    expect(await book.isPublished(dhtKey)).toBe(true)
  })
})
