/**
 * Who may talk to the local API. A local HTTP daemon is reachable by every web page the user opens, so, as kubo
 * and Jupyter do, it refuses:
 *  - a Host header that is not the bound address, localhost or [::1] with the right port (DNS rebinding:
 *    `localhost.evil.example` resolves to 127.0.0.1 but keeps its own Host);
 *  - browser requests from another origin (Origin, else Referer, else Sec-Fetch-Site) (CSRF);
 *  - state-changing methods other than POST (every call is a POST; GET only reads the event stream and the UI);
 *  - without the bearer token, when one is configured (required when binding beyond loopback).
 */
import { timingSafeEqual } from 'node:crypto'

export interface GuardConfig {
  /** The address the server is bound to, e.g. 127.0.0.1, ::1, 0.0.0.0. */
  host: string
  port: number
  token?: string
}

export interface RequestFacts {
  method: string
  path: string
  host?: string
  origin?: string
  referer?: string
  secFetchSite?: string
  authorization?: string
}

export interface Refusal {
  status: 400 | 401 | 403 | 405
  message: string
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])
export const isLoopbackHost = (host: string): boolean =>
  LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host)
const isWildcard = (host: string): boolean => host === '0.0.0.0' || host === '::'

/** The Host header values this server answers to. Empty when any host is fine (wildcard bind with a token). */
export function allowedHosts(config: GuardConfig): Set<string> {
  if (isWildcard(config.host)) return new Set()
  const bound = config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host
  const names = new Set([`${bound}:${config.port}`])
  if (isLoopbackHost(config.host)) {
    for (const name of ['localhost', '127.0.0.1', '[::1]']) names.add(`${name}:${config.port}`)
  }
  return names
}

export function checkRequest(
  req: RequestFacts,
  config: GuardConfig,
  hosts = allowedHosts(config)
): Refusal | null {
  if (req.host == null || req.host === '') return { status: 400, message: 'missing Host header' }
  const host = req.host.toLowerCase()
  if (hosts.size > 0 && !hosts.has(host)) {
    return {
      status: 403,
      message: `Host ${JSON.stringify(req.host)} is not this API (expected ${[...hosts].join(' or ')})`
    }
  }
  const ownOrigin = `http://${host}`
  if (req.origin != null) {
    if (req.origin !== ownOrigin)
      return { status: 403, message: `cross-origin request from ${req.origin} refused` }
  } else if (req.referer != null && req.referer !== '') {
    if (req.referer !== ownOrigin && !req.referer.startsWith(`${ownOrigin}/`)) {
      return { status: 403, message: 'cross-origin request (Referer) refused' }
    }
  } else if (req.secFetchSite === 'cross-site' || req.secFetchSite === 'same-site') {
    return { status: 403, message: 'cross-site request refused' }
  }
  const readOnly = req.method === 'GET' || req.method === 'HEAD'
  if (!readOnly && req.method !== 'POST')
    return { status: 405, message: `method ${req.method} is not allowed; use POST` }
  if (config.token != null && !tokenMatches(req.authorization, config.token)) {
    return { status: 401, message: 'missing or wrong API token (Authorization: Bearer <token>)' }
  }
  return null
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer (.+)$/.exec(header ?? '')
  if (match?.[1] == null) return false
  const given = Buffer.from(match[1])
  const expected = Buffer.from(token)
  return given.length === expected.length && timingSafeEqual(given, expected)
}
