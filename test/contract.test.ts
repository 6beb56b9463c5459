/**
 * The contract holds across every transport: each method is handled in main (IPC registrar), exposed by the
 * preload, implemented by the IPC client and by the HTTP client against the real HTTP server.
 */
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { apiContract, methodNames, type PeerApiClient } from '../src/shared/api-contract.ts'
import { createHttpClient } from '../src/shared/http-client.ts'
import { createIpcClient } from '../src/shared/ipc-client.ts'
import { registerIpc } from '../src/main/desktop/ipc-registrar.ts'
import { startApiServer, type ApiServer } from '../src/main/api/http-api.ts'
import { createBridge } from '../src/preload/bridge.ts'
import { PeerHost } from '../src/main/host/peer-host.ts'
import { FakeIpc } from './helpers/fake-ipc.ts'
import { recordingHandlers, sampleInputs } from './helpers/recording-handlers.ts'
import { PASSPHRASE, collect } from './helpers/swarm.ts'
import { DEFAULT_SETTINGS } from '../src/shared/swarm-settings.ts'

async function exercise(client: PeerApiClient, method: (typeof methodNames)[number]): Promise<unknown> {
  const fn = client[method] as (input: unknown) => Promise<unknown> | AsyncIterable<unknown>
  const result = fn(sampleInputs[method])
  return apiContract[method].kind === 'stream' ? collect(result as AsyncIterable<unknown>) : await result
}

/** Calls every method through the client; each must come back with what the recording handler answered. */
async function expectEveryMethodServed(client: PeerApiClient): Promise<void> {
  for (const method of methodNames) {
    const result = await exercise(client, method)
    if (apiContract[method].kind === 'stream')
      expect(result).toEqual([
        { method, n: 1 },
        { method, n: 2 }
      ])
    else expect(result).toEqual({ method })
  }
}

describe('every contract method', () => {
  test('is exposed by the preload as a named call or stream, and nothing else', async () => {
    const ipc = new FakeIpc()
    const bridge = createBridge(ipc.renderer)
    const exposed = [...Object.keys(bridge.calls), ...Object.keys(bridge.streams)].sort()
    expect(exposed).toEqual([...methodNames].sort())
    for (const m of methodNames) {
      const side = apiContract[m].kind === 'call' ? bridge.calls : bridge.streams
      expect(typeof (side as Record<string, unknown>)[m]).toBe('function')
    }
    // The preload entry exposes exactly one object, `swarm`, through contextBridge.
    const exposeInMainWorld = vi.fn()
    vi.doMock('electron', () => ({ contextBridge: { exposeInMainWorld }, ipcRenderer: ipc.renderer }))
    await import('../src/preload/index.ts')
    expect(exposeInMainWorld).toHaveBeenCalledTimes(1)
    expect(exposeInMainWorld.mock.calls[0]![0]).toBe('swarm')
    vi.doUnmock('electron')
  })

  test('is handled in main and reaches the peer over IPC, inputs validated', async () => {
    const ipc = new FakeIpc()
    const { handlers, calls } = recordingHandlers()
    registerIpc({ ipc: ipc.main, handlers, isTrustedSender: () => true })
    const client = createIpcClient(createBridge(ipc.renderer))
    await expectEveryMethodServed(client)
    expect(calls.map((c) => c.method)).toEqual(methodNames)
    // Inputs arrive as the caller sent them (validated, not altered): keys stay strings or bytes.
    expect(calls.find((c) => c.method === 'putRecord')!.input).toEqual(sampleInputs.putRecord)
  })

  describe('over HTTP', () => {
    let server: ApiServer
    const recorded = recordingHandlers()
    beforeAll(async () => {
      server = await startApiServer({ handlers: recorded.handlers, host: '127.0.0.1', port: 0 })
    })
    afterAll(async () => server.close())

    test('is implemented by the HTTP client and served by the HTTP API', async () => {
      const client = createHttpClient({ baseUrl: server.url })
      expect(Object.keys(client).sort()).toEqual([...methodNames].sort())
      await expectEveryMethodServed(client)
      expect(recorded.calls.map((c) => c.method)).toEqual(methodNames)
      expect(recorded.calls.find((c) => c.method === 'provide')!.input).toEqual(sampleInputs.provide)
    })
  })

  test('is answered by the peer host, so main and serve can route every method to it', () => {
    const host = new PeerHost({ dataDir: '/nonexistent', passphrase: PASSPHRASE, settings: DEFAULT_SETTINGS })
    for (const method of methodNames) expect(typeof host.handlers[method], method).toBe('function')
  })
})
