/**
 * "My laptop sees it, the robot doesn't": the same lookup run on this peer and on another peer's local API, with
 * what each found and the trace of how it looked. The other peer is called from here (not from the page), so the
 * browser's same-origin rules and the remote API's Origin check both hold.
 */
import type { ApiParsedInput, CallOptions, PeerApiHandlers } from '../../shared/api-contract.ts'
import { displayKey, utf8 } from '../../shared/bytes.ts'
import { createHttpClient } from '../../shared/http-client.ts'
import type { VantageComparison, VantageView } from '../../shared/views.ts'

export async function compareVantage(
  here: PeerApiHandlers,
  input: ApiParsedInput<'compareVantage'>,
  options: CallOptions
): Promise<VantageComparison> {
  const target = { topic: input.topic, key: input.key }
  const remote = createHttpClient({
    baseUrl: input.api,
    ...(input.token != null ? { token: input.token } : {})
  })
  const local = async (): Promise<VantageView> => {
    const peerId = await here.ownId({}, options)
    try {
      const { record, queryId } = await here.getRecord(target, options)
      const trace = (await here.queries({}, options)).find((q) => q.id === queryId) ?? null
      return { peerId, api: 'this node', record, trace, error: null }
    } catch (err) {
      return { peerId, api: 'this node', record: null, trace: null, error: (err as Error).message }
    }
  }
  const far = async (): Promise<VantageView> => {
    let peerId = ''
    try {
      peerId = await remote.ownId({}, options)
      const { record, queryId } = await remote.getRecord(target, options)
      const trace = (await remote.queries({}, options)).find((q) => q.id === queryId) ?? null
      return { peerId, api: input.api, record, trace, error: null }
    } catch (err) {
      return { peerId, api: input.api, record: null, trace: null, error: (err as Error).message }
    }
  }
  const [a, b] = await Promise.all([local(), far()])
  const key = typeof input.key === 'string' ? utf8.encode(input.key) : input.key
  return { topic: input.topic, keyDisplay: displayKey(key), here: a, there: b }
}
