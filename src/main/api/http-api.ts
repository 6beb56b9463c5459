/**
 * The local HTTP API: every contract method at `POST /api/v1/<method>`.
 *  - call methods answer JSON `{ ok: true, value } | { ok: false, error: { name, message } }`;
 *  - stream methods answer `text/event-stream`: one `data:` event per item, then `event: end`, or `event: error`;
 *  - `GET /api/v1/events` is the same live event stream for EventSource.
 * Bodies and items are wire JSON (bytes as `{ "$bytes": base64 }`). Routing is driven by `apiContract`, so a new
 * contract method is served without touching this file.
 */
import { cors } from '@connectrpc/connect'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  apiContract,
  isMethodName,
  parseInput,
  type MethodName,
  type PeerApiHandlers
} from '../../shared/api-contract.ts'
import { InvalidInputError, NotFoundError, serializeError } from '../../shared/errors.ts'
import { fromWireJson, toWireJson } from '../../shared/wire.ts'
import { STATUS_FOR_ERROR } from './http-status.ts'
import {
  allowedHosts,
  checkRequest,
  isLoopbackHost,
  type GuardConfig,
  type Refusal
} from './request-guard.ts'
import { serveUi, type StaticUi } from './static-ui.ts'
import { BRIDGE_PATH } from '../bridge/bridge-server.ts'

export const API_PREFIX = '/api/v1/'
const MAX_BODY_BYTES = 1024 * 1024

export interface ApiServerInit {
  handlers: PeerApiHandlers
  host: string
  port: number
  /** Required when host is not loopback. */
  token?: string
  /** Serve the built UI at / (browser mode). */
  ui?: StaticUi
  /** When the port is taken, listen on a free one instead (and say so in `notice`). */
  fallbackPort?: boolean
  /** The SDK bridge's gRPC-web and Connect handler, mounted at /script.DHT/… and /script.Discovery/… (null: off). */
  bridge?: () => WebBridge | null
}

export interface WebBridge {
  handler: (req: IncomingMessage, res: ServerResponse) => void
  /** Web origins besides our own that may call the bridge (CORS), e.g. an SDK web app's dev server. */
  allowedOrigins: string[]
}

export interface ApiServer {
  url: string
  /** Set when the configured port was taken and another was used. */
  notice: string | null
  host: string
  port: number
  close(): Promise<void>
}

export async function startApiServer(init: ApiServerInit): Promise<ApiServer> {
  if (!isLoopbackHost(init.host) && (init.token == null || init.token.length < 16)) {
    throw new InvalidInputError(
      `binding the API to ${init.host} (beyond loopback) needs a token of at least 16 characters`
    )
  }
  const guard: GuardConfig = {
    host: init.host,
    port: init.port,
    ...(init.token != null ? { token: init.token } : {})
  }
  let hosts = allowedHosts(guard)
  const streams = new Set<AbortController>()

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: serializeError(err) })
      else res.destroy()
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://placeholder')
    const bridge = init.bridge?.()
    if (bridge != null && BRIDGE_PATH.test(url.pathname)) {
      serveBridge(bridge, req, res)
      return
    }
    const refusal = checkRequest(
      {
        method: req.method ?? 'GET',
        path: url.pathname,
        host: req.headers.host,
        origin: req.headers.origin,
        referer: req.headers.referer,
        secFetchSite: header(req, 'sec-fetch-site'),
        authorization: req.headers.authorization
      },
      guard,
      hosts
    )
    if (refusal != null) {
      refuse(req, res, refusal)
      return
    }
    if (!url.pathname.startsWith(API_PREFIX)) {
      const isRead = req.method === 'GET' || req.method === 'HEAD'
      if (isRead && init.ui != null && (await serveUi(init.ui, url.pathname, res, req.method === 'HEAD')))
        return
      sendJson(res, 404, {
        ok: false,
        error: serializeError(new NotFoundError(`no such path: ${url.pathname}`))
      })
      req.resume()
      return
    }
    const name = url.pathname.slice(API_PREFIX.length)
    if (!isMethodName(name)) {
      sendJson(res, 404, {
        ok: false,
        error: { name: 'NotFoundError', message: `unknown API method: ${name}` }
      })
      req.resume()
      return
    }
    if (req.method === 'GET' && name !== 'events') {
      sendJson(res, 405, {
        ok: false,
        error: { name: 'InvalidInputError', message: `${name} must be called with POST` }
      })
      return
    }

    const controller = new AbortController()
    // The client going away cancels what it asked for (a lookup, a stream).
    res.on('close', () => controller.abort())

    let input: unknown = {}
    try {
      if (req.method === 'POST') input = await readBody(req)
      const parsed = parseInput(name, input)
      if (apiContract[name].kind === 'stream') {
        await streamResponse(res, name, parsed, controller)
      } else {
        const call = init.handlers[name] as (
          input: unknown,
          options: { signal: AbortSignal }
        ) => Promise<unknown>
        const value = await call.call(init.handlers, parsed, { signal: controller.signal })
        sendJson(res, 200, { ok: true, value })
      }
    } catch (err) {
      const error = serializeError(err)
      if (!res.headersSent) sendJson(res, STATUS_FOR_ERROR[error.name], { ok: false, error })
      else if (!res.writableEnded) res.end(sse('error', error))
    }
  }

  /**
   * The SDK bridge over HTTP: the same Host, method and token rules as the API; browser calls from our own origin
   * or from an allowed origin (with CORS, preflight included); anything else refused.
   */
  function serveBridge(bridge: WebBridge, req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin
    const crossAllowed = origin != null && bridge.allowedOrigins.includes(origin)
    const preflight = req.method === 'OPTIONS'
    const refusal = checkRequest(
      {
        method: preflight && crossAllowed ? 'GET' : (req.method ?? 'GET'),
        path: req.url ?? '/',
        host: req.headers.host,
        ...(crossAllowed
          ? {}
          : { origin, referer: req.headers.referer, secFetchSite: header(req, 'sec-fetch-site') }),
        // A preflight never carries credentials; the call that follows does.
        authorization:
          preflight && crossAllowed && guard.token != null
            ? `Bearer ${guard.token}`
            : req.headers.authorization
      },
      guard,
      hosts
    )
    if (refusal != null) {
      refuse(req, res, refusal)
      return
    }
    if (crossAllowed) {
      res.setHeader('access-control-allow-origin', origin)
      res.setHeader('vary', 'Origin')
      res.setHeader('access-control-expose-headers', cors.exposedHeaders.join(', '))
      if (preflight) {
        res.writeHead(204, {
          'access-control-allow-methods': cors.allowedMethods.join(', '),
          'access-control-allow-headers': [...cors.allowedHeaders, 'Authorization'].join(', '),
          'access-control-max-age': '7200'
        })
        res.end()
        return
      }
    }
    bridge.handler(req, res)
  }

  async function streamResponse(
    res: ServerResponse,
    name: MethodName,
    input: unknown,
    controller: AbortController
  ): Promise<void> {
    const open = init.handlers[name] as (
      input: unknown,
      options: { signal: AbortSignal }
    ) => AsyncIterable<unknown>
    const source = open.call(init.handlers, input, { signal: controller.signal })
    streams.add(controller)
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff'
    })
    res.flushHeaders()
    try {
      for await (const item of source) {
        if (controller.signal.aborted) break
        res.write(sse('data', item))
      }
      if (!res.writableEnded) res.end(sse('end', {}))
    } catch (err) {
      if (!res.writableEnded) res.end(sse('error', serializeError(err)))
    } finally {
      streams.delete(controller)
    }
  }

  const listen = (port: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, init.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  let notice: string | null = null
  try {
    await listen(init.port)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || init.fallbackPort !== true || init.port === 0)
      throw err
    await listen(0)
    notice = `API port ${init.port} on ${init.host} is in use; the API listens on port ${(server.address() as AddressInfo).port} instead`
  }
  const port = (server.address() as AddressInfo).port
  guard.port = port
  hosts = allowedHosts(guard)
  const urlHost = init.host.includes(':') ? `[${init.host}]` : init.host
  return {
    url: `http://${urlHost}:${port}`,
    notice,
    host: init.host,
    port,
    close: () => closeServer(server, streams)
  }
}

function refuse(req: IncomingMessage, res: ServerResponse, refusal: Refusal): void {
  sendJson(res, refusal.status, { ok: false, error: { name: 'ForbiddenError', message: refusal.message } })
  req.resume()
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = toWireJson(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff'
  })
  res.end(text)
}

function sse(kind: 'data' | 'end' | 'error', payload: unknown): string {
  const data = `data: ${toWireJson(payload)}\n\n`
  return kind === 'data' ? data : `event: ${kind}\n${data}`
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? ''
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw new InvalidInputError(`request body exceeds ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk)
  }
  if (size === 0) return {}
  // Only JSON: a form post from another site cannot smuggle a call through as text/plain.
  if (!type.startsWith('application/json'))
    throw new InvalidInputError('request body must be application/json')
  try {
    return fromWireJson(Buffer.concat(chunks).toString('utf8'))
  } catch (err) {
    throw new InvalidInputError(`request body is not valid JSON: ${(err as Error).message}`)
  }
}

async function closeServer(server: Server, streams: Set<AbortController>): Promise<void> {
  for (const stream of streams) stream.abort()
  await new Promise<void>((resolve) => {
    server.close(() => resolve())
    // Idle keep-alive sockets go now; a response still being written gets a moment to finish.
    server.closeIdleConnections()
    setTimeout(() => server.closeAllConnections(), 1_000).unref()
  })
}
