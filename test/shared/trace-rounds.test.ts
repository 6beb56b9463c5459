import { expect, test } from 'vitest'
import { traceRounds } from '../../src/shared/trace-rounds.ts'
import type { QueryStep } from '../../src/shared/views.ts'

const step = (
  kind: QueryStep['kind'],
  peerId: string,
  at: number,
  extra: Partial<QueryStep> = {}
): QueryStep => ({
  kind,
  peerId,
  at,
  path: 0,
  distance: '00',
  log2Distance: 250 - at,
  ...extra
})

test('rounds follow who named whom: first asks are round 1, peers named in their answers round 2, and so on', () => {
  const { peers, rounds } = traceRounds([
    step('send', 'A', 0),
    step('send', 'B', 1),
    step('response', 'A', 5, { closerPeerIds: ['C', 'D'], rttMs: 5 }),
    step('send', 'C', 6),
    step('error', 'B', 7, { error: 'timeout' }),
    step('response', 'C', 9, { closerPeerIds: ['E', 'A'] }),
    step('send', 'E', 10),
    step('send', 'D', 11)
  ])
  expect(rounds).toBe(3)
  const by = Object.fromEntries(peers.map((p) => [p.peerId, p]))
  expect(by['A']).toMatchObject({ round: 1, referrer: null, outcome: 'answered', rttMs: 5 })
  expect(by['B']).toMatchObject({ round: 1, outcome: 'error' })
  expect(by['C']).toMatchObject({ round: 2, referrer: 'A', outcome: 'answered' })
  expect(by['D']).toMatchObject({ round: 2, referrer: 'A', outcome: 'pending' })
  expect(by['E']).toMatchObject({ round: 3, referrer: 'C' })
})

test('an empty trace has no rounds', () => {
  expect(traceRounds([])).toEqual({ peers: [], rounds: 0 })
})
