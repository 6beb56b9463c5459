import { describe, expect, test } from 'vitest'
import type { PeerApiHandlers } from '../../../src/shared/api-contract.ts'
import {
  IPC_CALL,
  IPC_STREAM_CANCEL,
  IPC_STREAM_MESSAGE,
  IPC_STREAM_OPEN
} from '../../../src/shared/ipc-bridge.ts'
import { isAppUrl } from '../../../src/main/desktop/window-security.ts'
import { registerIpc } from '../../../src/main/desktop/ipc-registrar.ts'
import { FakeIpc } from '../../helpers/fake-ipc.ts'
import { recordingHandlers } from '../../helpers/recording-handlers.ts'

const APP = 'file:///app/out/renderer/index.html'

function setup(handlers?: Partial<PeerApiHandlers>) {
  const ipc = new FakeIpc()
  const recorded = recordingHandlers()
  const all = { ...recorded.handlers, ...handlers } as PeerApiHandlers
  const messages: Array<[number, unknown]> = []
  ipc.renderer.on(IPC_STREAM_MESSAGE, (_e, id, message) => messages.push([id as number, message]))
  const unregister = registerIpc({
    ipc: ipc.main,
    handlers: all,
    isTrustedSender: (event) =>
      event.sender.id === 1 && event.senderFrame != null && isAppUrl(event.senderFrame.url, APP)
  })
  return { ipc, calls: recorded.calls, messages, unregister }
}

describe('IPC registrar', () => {
  test('refuses frames that are not our page, before touching the peer', async () => {
    const { ipc, calls } = setup()
    ipc.frameUrl = 'https://evil.example/'
    const result = await ipc.renderer.invoke(IPC_CALL, 'ownId', {})
    expect(result).toEqual({
      ok: false,
      error: { name: 'ForbiddenError', message: 'IPC from an untrusted frame refused' }
    })
    expect(calls).toEqual([])
  })

  test('refuses unknown methods, streams called as calls, and invalid input, naming the error', async () => {
    const { ipc, calls } = setup()
    expect(await ipc.renderer.invoke(IPC_CALL, 'rm -rf', {})).toMatchObject({
      ok: false,
      error: { name: 'InvalidInputError' }
    })
    expect(await ipc.renderer.invoke(IPC_CALL, 'events', {})).toMatchObject({
      ok: false,
      error: { message: 'unknown call method: events' }
    })
    expect(
      await ipc.renderer.invoke(IPC_CALL, 'putRecord', { topic: 't', key: 'k', value: 'not bytes' })
    ).toMatchObject({
      ok: false,
      error: { name: 'InvalidInputError', message: expect.stringMatching(/value: expected bytes/) }
    })
    expect(
      await ipc.renderer.invoke(IPC_CALL, 'getRecord', { topic: 't', key: 'k', extra: 1 })
    ).toMatchObject({ ok: false })
    expect(calls).toEqual([])
  })

  test('carries the error name of a failing handler', async () => {
    const { ipc } = setup({
      getRecord: async () => {
        const err = new Error('topic must not contain "/"')
        err.name = 'InvalidInputError'
        throw err
      }
    })
    expect(await ipc.renderer.invoke(IPC_CALL, 'getRecord', { topic: 't', key: 'k' })).toEqual({
      ok: false,
      error: { name: 'InvalidInputError', message: 'topic must not contain "/"' }
    })
  })

  test('streams items as they are produced, and a cancel stops the producer', async () => {
    let release: () => void = () => {}
    let produced = 0
    let aborted = false
    const { ipc, messages } = setup({
      getProviders: async function* (_input, { signal }) {
        signal?.addEventListener('abort', () => {
          aborted = true
          release()
        })
        produced++
        yield { peerId: 'first', addresses: [], from: 'x' }
        await new Promise<void>((resolve) => (release = resolve))
        if (signal?.aborted) return
        produced++
        yield { peerId: 'second', addresses: [], from: 'x' }
      }
    })
    ipc.renderer.send(IPC_STREAM_OPEN, 7, 'getProviders', { topic: 't', key: 'k' })
    await expect.poll(() => messages.length).toBe(1)
    // The first item is delivered while the producer is still waiting: incremental, not at the end.
    expect(messages[0]).toEqual([7, { type: 'item', item: { peerId: 'first', addresses: [], from: 'x' } }])
    ipc.renderer.send(IPC_STREAM_CANCEL, 7)
    await expect.poll(() => aborted).toBe(true)
    expect(produced).toBe(1)
    expect(messages).toHaveLength(1)
  })

  test('a destroyed window cancels its streams', async () => {
    let aborted = false
    const { ipc } = setup({
      events: async function* (_input, { signal }) {
        try {
          yield { type: 'node:started' as const, peerId: 'p', at: 0 }
          await new Promise<void>((resolve) => {
            if (signal?.aborted === true) resolve()
            signal?.addEventListener('abort', () => resolve())
          })
        } finally {
          aborted = true
        }
      }
    })
    ipc.renderer.send(IPC_STREAM_OPEN, 1, 'events', {})
    ipc.destroy()
    await expect.poll(() => aborted).toBe(true)
  })

  test('a stream opened with bad input gets an error message, not silence', async () => {
    const { ipc, messages } = setup()
    ipc.renderer.send(IPC_STREAM_OPEN, 3, 'getProviders', { topic: 5 })
    await expect.poll(() => messages.length).toBe(1)
    expect(messages[0]).toMatchObject([3, { type: 'error', error: { name: 'InvalidInputError' } }])
  })
})
