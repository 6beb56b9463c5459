/**
 * A PeerApiClient for renderer tests: calls answered by the given functions, and an event stream the test pushes to.
 */
import { pushable } from 'it-pushable'
import { apiContract, methodNames, type PeerApiClient } from '../../src/shared/api-contract.ts'
import type { PeerEvent } from '../../src/shared/events.ts'

export function fakeClient(answers: Partial<Record<keyof PeerApiClient, (input: unknown) => unknown>> = {}) {
  const events = pushable<PeerEvent>({ objectMode: true })
  const calls: Array<{ method: string; input: unknown }> = []
  const client: Record<string, unknown> = {}
  for (const method of methodNames) {
    client[method] =
      apiContract[method].kind === 'stream'
        ? (input: unknown) => {
            calls.push({ method, input })
            if (method === 'events') return events
            return (answers[method]?.(input) as AsyncIterable<unknown>) ?? (async function* () {})()
          }
        : async (input: unknown) => {
            calls.push({ method, input })
            const answer = answers[method]
            if (answer == null) throw new Error(`no fake answer for ${method}`)
            return answer(input)
          }
  }
  return { client: client as PeerApiClient, events, calls }
}
