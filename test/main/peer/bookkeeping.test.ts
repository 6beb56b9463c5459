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

/** Nothing left in memory once the puts and mark operations have ended. */
function expectIdle(book: Bookkeeping): void {
  const internals = book as unknown as { marking: Map<string, unknown>; lastMarkOp: Map<string, unknown> }
  expect(internals.marking.size).toBe(0)
  expect(internals.lastMarkOp.size).toBe(0)
}

describe('a put marks its key as published while it runs', () => {
  const opened: { path: string; store: LevelDatastore }[] = []
  const openStore = async () => {
    const path = join(await tempDir(), 'ds')
    const store = new LevelDatastore(path)
    await store.open()
    opened.push({ path, store })
    return store
  }
  const open = async () => new Bookkeeping(await openStore())
  afterEach(async () => {
    await Promise.all(
      opened.splice(0).map(async ({ path, store }) => {
        await store.close()
        await rm(path, { recursive: true, force: true })
      })
    )
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
    expectIdle(book)
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
    expectIdle(book)
  })

  it('takes the mark back when two overlapping puts both fail', async () => {
    const book = await open()
    const a = controlledPut()
    const b = controlledPut()
    const first = book.publishing(dhtKey, entry, a.put)
    const second = book.publishing(dhtKey, entry, b.put)
    await expect.poll(() => book.isPublished(dhtKey)).toBe(true)
    a.settle(false)
    await expect(first).rejects.toThrow('put failed')
    expect(await book.isPublished(dhtKey), 'while the other is still running').toBe(true)
    b.settle(false)
    await expect(second).rejects.toThrow('put failed')
    expect(await book.isPublished(dhtKey)).toBe(false)
    expectIdle(book)
  })

  it("reports the datastore's failure, and the put's own over it", async () => {
    const store = await openStore()
    const failing = Object.assign(Object.create(store) as LevelDatastore, {
      put: async () => {
        throw new Error('disk full')
      }
    })
    const book = new Bookkeeping(failing)
    await expect(book.publishing(dhtKey, entry, async () => 'stored')).rejects.toThrow('disk full')
    await expect(book.publishing(dhtKey, entry, () => Promise.reject(new Error('no peers')))).rejects.toThrow(
      'no peers'
    )
    expectIdle(book)
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
      expectIdle(book)
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
    expectIdle(book)
  })

  it("keeps the mark of a key put while a republish's lookup of it ran", async () => {
    const book = await open()
    await book.publishing(dhtKey, entry, async () => 'stored')
    const otherKey = utf8.encode('/swarm/topic/other')
    await book.publishing(otherKey, { topic: 'topic', key: utf8.encode('other') }, async () => 'stored')
    // A republish found another publisher's version of both keys; one of them was being put when it began, and was
    // put again while it ran.
    const running = controlledPut()
    const putting = book.publishing(dhtKey, entry, running.put)
    const puts = book.watchPuts()
    expect(await puts.unmarkUnlessPut(dhtKey), 'while a put that began before the republish runs').toBe(false)
    running.settle(true)
    await putting
    await book.publishing(dhtKey, entry, async () => 'stored')
    expect(await puts.unmarkUnlessPut(dhtKey), 'after a put made during the republish').toBe(false)
    expect(await puts.unmarkUnlessPut(otherKey)).toBe(true)
    puts.stop()
    expect(await book.isPublished(dhtKey)).toBe(true)
    expect(await book.isPublished(otherKey)).toBe(false)
    expectIdle(book)
  })
})
