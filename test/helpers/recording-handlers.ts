/**
 * Handlers for every contract method that record what reached them: proves a transport routes each method.
 */
import {
  apiContract,
  methodNames,
  type MethodName,
  type PeerApiHandlers
} from '../../src/shared/api-contract.ts'

export function recordingHandlers(): {
  handlers: PeerApiHandlers
  calls: Array<{ method: MethodName; input: unknown }>
} {
  const calls: Array<{ method: MethodName; input: unknown }> = []
  const handlers: Record<string, unknown> = {}
  for (const method of methodNames) {
    handlers[method] =
      apiContract[method].kind === 'stream'
        ? async function* (input: unknown) {
            calls.push({ method, input })
            yield { method, n: 1 }
            yield { method, n: 2 }
          }
        : async (input: unknown) => {
            calls.push({ method, input })
            return { method }
          }
  }
  return { handlers: handlers as PeerApiHandlers, calls }
}

/** A valid input for each method (keys as strings, bytes where bytes are required). */
export const sampleInputs: Record<MethodName, unknown> = {
  ownId: {},
  putRecord: { topic: 't', key: 'k', value: new Uint8Array([1, 2, 3]) },
  getRecord: { topic: 't', key: 'k' },
  removeRecord: { topic: 't', key: 'k' },
  provide: { topic: 't', key: new Uint8Array([0, 255]) },
  getProviders: { topic: 't', key: 'k' },
  stopProviding: { topic: 't', key: 'k' },
  dial: { multiaddr: '/ip4/127.0.0.1/tcp/1' },
  nodeInfo: {},
  routingTable: {},
  records: { topic: 't' },
  providerRecords: {},
  connections: {},
  queries: {},
  events: {},
  settings: {},
  updateSettings: { mdns: false },
  bridgeStatus: {},
  checkReplication: { topic: 't', key: 'k', kind: 'record' },
  repairReplication: { topic: 't', key: 'k' },
  compareVantage: { topic: 't', key: 'k', api: 'http://127.0.0.1:1' },
  profiles: {},
  saveProfile: { name: 'lab' },
  switchProfile: { name: 'lab' },
  deleteProfile: { name: 'lab' }
}
