import { describe, expect, test } from 'vitest'
import { checkRequest, type RequestFacts } from '../../../src/main/api/request-guard.ts'
import { parseApiAddress } from '../../../src/main/cli/api-address.ts'

const loopback = { host: '127.0.0.1', port: 8080 }
const post = (facts: Partial<RequestFacts>): RequestFacts => ({
  method: 'POST',
  path: '/api/v1/ownId',
  host: '127.0.0.1:8080',
  ...facts
})

describe('request guard', () => {
  test('accepts the bound address, localhost and [::1] with the right port', () => {
    for (const host of ['127.0.0.1:8080', 'localhost:8080', '[::1]:8080', 'LOCALHOST:8080']) {
      expect(checkRequest(post({ host }), loopback)).toBeNull()
    }
  })

  test('refuses other Host headers (DNS rebinding), wrong ports and a missing Host', () => {
    for (const host of [
      'localhost.evil.example:8080',
      'evil.example',
      '127.0.0.1:9090',
      'localhost',
      '127.0.0.2:8080'
    ]) {
      expect(checkRequest(post({ host }), loopback)?.status).toBe(403)
    }
    expect(checkRequest(post({ host: '' }), loopback)?.status).toBe(400)
  })

  test('refuses cross-origin browser requests by Origin, Referer or Sec-Fetch-Site', () => {
    expect(checkRequest(post({ origin: 'http://127.0.0.1:8080' }), loopback)).toBeNull()
    expect(checkRequest(post({ origin: 'http://evil.example' }), loopback)?.status).toBe(403)
    expect(checkRequest(post({ origin: 'null' }), loopback)?.status).toBe(403)
    expect(checkRequest(post({ origin: 'http://localhost:8080' }), loopback)?.status).toBe(403)
    expect(checkRequest(post({ referer: 'http://127.0.0.1:8080/ui' }), loopback)).toBeNull()
    expect(checkRequest(post({ referer: 'http://evil.example/page' }), loopback)?.status).toBe(403)
    expect(checkRequest(post({ referer: 'http://127.0.0.1:8080.evil.example/' }), loopback)?.status).toBe(403)
    expect(checkRequest(post({ secFetchSite: 'cross-site' }), loopback)?.status).toBe(403)
  })

  test('allows reads by GET, state changes only by POST', () => {
    expect(checkRequest(post({ method: 'GET' }), loopback)).toBeNull()
    for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS'])
      expect(checkRequest(post({ method }), loopback)?.status).toBe(405)
  })

  test('with a token, any Host on a wildcard bind but only with the right bearer token', () => {
    const remote = { host: '0.0.0.0', port: 8080, token: 'a-long-enough-token' }
    expect(checkRequest(post({ host: 'robot-7.lan:8080' }), remote)?.status).toBe(401)
    expect(
      checkRequest(post({ host: 'robot-7.lan:8080', authorization: 'Bearer wrong' }), remote)?.status
    ).toBe(401)
    expect(
      checkRequest(post({ host: 'robot-7.lan:8080', authorization: 'Bearer a-long-enough-token' }), remote)
    ).toBeNull()
  })

  test('parses --api HOST:PORT', () => {
    expect(parseApiAddress('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 })
    expect(parseApiAddress('[::1]:0')).toEqual({ host: '::1', port: 0 })
    expect(() => parseApiAddress('8080')).toThrow(/HOST:PORT/)
    expect(() => parseApiAddress('localhost:99999')).toThrow(/HOST:PORT/)
  })
})
