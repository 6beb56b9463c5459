/**
 * What the forms do. Each action calls the peer through the client and refreshes what it changed, so components
 * neither hold the client nor know the transport.
 */
import type { ApiInput, ApiOutput } from '../../../shared/api-contract.ts'
import { peerClient } from './peer-client.ts'
import { ALL_PARTS, loadViews } from './event-bridge.ts'
import { useInspector } from './index.ts'

/** What a put, remove or provide changes here. */
const refreshLocal = (): Promise<void> =>
  loadViews(peerClient(), useInspector, ['records', 'providers', 'node'])

export const peerActions = {
  async putRecord(input: ApiInput<'putRecord'>): Promise<ApiOutput<'putRecord'>> {
    const result = await peerClient().putRecord(input)
    await refreshLocal()
    return result
  },
  getRecord: (input: ApiInput<'getRecord'>) => peerClient().getRecord(input),
  async removeRecord(input: ApiInput<'removeRecord'>) {
    const result = await peerClient().removeRecord(input)
    await refreshLocal()
    return result
  },
  async provide(input: ApiInput<'provide'>) {
    const result = await peerClient().provide(input)
    await refreshLocal()
    return result
  },
  async stopProviding(input: ApiInput<'stopProviding'>) {
    const result = await peerClient().stopProviding(input)
    await refreshLocal()
    return result
  },
  getProviders: (input: ApiInput<'getProviders'>, signal: AbortSignal) =>
    peerClient().getProviders(input, { signal }),
  dial: (input: ApiInput<'dial'>) => peerClient().dial(input),
  async updateSettings(input: ApiInput<'updateSettings'>) {
    const result = await peerClient().updateSettings(input)
    useInspector.getState().setSettings(result.settings)
    await loadViews(peerClient(), useInspector, ['bridge'])
    return result
  },
  profiles: () => peerClient().profiles({}),
  saveProfile: (input: ApiInput<'saveProfile'>) => peerClient().saveProfile(input),
  async switchProfile(input: ApiInput<'switchProfile'>) {
    const view = await peerClient().switchProfile(input)
    await loadViews(peerClient(), useInspector, ALL_PARTS)
    return view
  },
  deleteProfile: (input: ApiInput<'deleteProfile'>) => peerClient().deleteProfile(input),
  compareVantage: (input: ApiInput<'compareVantage'>) => peerClient().compareVantage(input),
  checkReplication: (input: ApiInput<'checkReplication'>) => peerClient().checkReplication(input),
  repairReplication: (input: ApiInput<'repairReplication'>) => peerClient().repairReplication(input),
  refreshBridge: () => loadViews(peerClient(), useInspector, ['bridge']),
  /** Back from a snapshot to the live peer. */
  async leaveSnapshot(): Promise<void> {
    useInspector.getState().setSnapshot(null)
    await loadViews(peerClient(), useInspector, ALL_PARTS)
  }
}
