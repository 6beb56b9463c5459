/**
 * serve's flags for the peer itself: what `--mesh-peers` and `--republish-interval` become in the peer's settings, and
 * that a bad value is refused before anything starts.
 */
import { describe, expect, test } from 'vitest'
import { peerOptions } from '../../../src/main/cli/serve.ts'
import { cli } from '../../helpers/processes.ts'

describe('serve flags for the peer', () => {
  test('--mesh-peers N keeps the table mesh up to N peers, 0 turns it off, absent leaves the default', () => {
    expect(peerOptions({ quic: true, meshPeers: 40 }).tableMesh).toEqual({ maxPeers: 40 })
    expect(peerOptions({ quic: true, meshPeers: 0 }).tableMesh).toBeNull()
    expect('tableMesh' in peerOptions({ quic: true })).toBe(false)
    expect(peerOptions({ quic: false, republishInterval: 60 })).toEqual({
      quic: false,
      republishIntervalMs: 60_000,
      reprovideIntervalMs: 60_000
    })
  })

  for (const value of ['-1', '2.5', 'lots', '10001']) {
    test(`--mesh-peers ${value}: exit 2 with a clear message`, async () => {
      const result = await cli(['serve', '--mesh-peers', value])
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/whole number from 0 to 10000/)
    })
  }
})
