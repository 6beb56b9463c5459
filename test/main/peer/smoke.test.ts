import { afterAll, beforeAll, expect, test } from 'vitest'
import { spawnSwarm, teardown } from '../../helpers/swarm.ts'
import type { SwarmPeer } from '../../../src/main/peer/swarm-peer.ts'

let peers: SwarmPeer[] = []
beforeAll(async () => {
  peers = await spawnSwarm(3)
})
afterAll(async () => teardown(peers))

test('put on one, get on another', async () => {
  const [a, b] = peers as [SwarmPeer, SwarmPeer]
  const put = await a.putRecord(
    { topic: 'charging_pause', key: 'robot-1', value: new TextEncoder().encode('1h') },
    {}
  )
  console.log(put)
  const got = await b.getRecord({ topic: 'charging_pause', key: 'robot-1' }, {})
  console.log(got)
  expect(new TextDecoder().decode(got.record!.value)).toBe('1h')
})
