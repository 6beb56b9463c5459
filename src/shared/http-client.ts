/**
 * The contract over the local HTTP API, for the CLI, scripts, tests and the UI in browser mode. Built from
 * `apiContract`, so every method exists here as soon as it exists in the contract.
 */
import {
  apiContract,
  methodNames,
  type CallOptions,
  type MethodName,
  type PeerApiClient
} from './api-contract.ts'
import { ApiError, deserializeError, UnavailableError, type SerializedError } from './errors.ts'
import { fromWireJson, toWireJson } from './wire.ts'

export const API_PATH = '/api/v1/'

export interface HttpClientInit {
  /** e.g. http://127.0.0.1:8080 ; '' means the page's own origin (browser mode). */
  baseUrl: string
  token?: string
  fetch?: typeof fetch
}

type Envelope = { ok: true; value: unknown } | { ok: false; error: SerializedError }

export function createHttpClient(init: HttpClientInit): PeerApiClient {
  const doFetch = init.fetch ?? globalThis.fetch.bind(globalThis)
  const base = init.baseUrl.replace(/\/+$/, '')

  async function post(
    method: MethodName,
    input: unknown,
    options: CallOptions | undefined
  ): Promise<Response> {
    const url = `${base}${API_PATH}${method}`
    try {
      return await doFetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(init.token != null ? { authorization: `Bearer ${init.token}` } : {})
        },
        body: toWireJson(input ?? {}),
        ...(options?.signal != null ? { signal: options.signal } : {})
      })
    } catch (err) {
      if (options?.signal?.aborted === true) throw new ApiError('AbortError', `${method} was cancelled`)
      throw new UnavailableError(
        `cannot reach the swarm-inspector API at ${base || 'this page'}: ${causeOf(err)}`
      )
    }
  }

  async function call(method: MethodName, input: unknown, options?: CallOptions): Promise<unknown> {
    const response = await post(method, input, options)
    const body = await readEnvelope(response)
    if (!body.ok) throw deserializeError(body.error)
    return body.value
  }

  async function* stream(method: MethodName, input: unknown, options?: CallOptions): AsyncGenerator<unknown> {
    const response = await post(method, input, options)
    if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      const body = await readEnvelope(response)
      throw body.ok
        ? new ApiError('InternalError', `${method} did not answer with a stream`)
        : deserializeError(body.error)
    }
    if (response.body == null) throw new ApiError('InternalError', `${method} answered without a body`)
    for await (const event of parseEventStream(response.body)) {
      if (event.event === 'end') return
      if (event.event === 'error') throw deserializeError(event.data as SerializedError)
      yield event.data
    }
    if (options?.signal?.aborted === true) return
    throw new UnavailableError(`the ${method} stream ended without finishing (did the peer stop?)`)
  }

  const client: Record<string, unknown> = {}
  for (const method of methodNames) {
    client[method] =
      apiContract[method].kind === 'stream'
        ? (input: unknown, options?: CallOptions) => stream(method, input, options)
        : (input: unknown, options?: CallOptions) => call(method, input, options)
  }
  return client as PeerApiClient
}

async function readEnvelope(response: Response): Promise<Envelope> {
  const text = await response.text()
  try {
    const body = fromWireJson(text) as Envelope
    if (typeof body === 'object' && body !== null && 'ok' in body) return body
  } catch {
    // fall through
  }
  return {
    ok: false,
    error: {
      name: 'InternalError',
      message: `unexpected answer (HTTP ${response.status}): ${text.slice(0, 200)}`
    }
  }
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (err as Error).message
}

/** A minimal Server-Sent Events reader (the API only sends `event:` and single-line `data:` fields). */
export async function* parseEventStream(
  body: ReadableStream<Uint8Array>
): AsyncGenerator<{ event: string; data: unknown }> {
  const decoder = new TextDecoder()
  let buffer = ''
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      buffer += decoder.decode(value, { stream: true })
      let boundary: number
      while ((boundary = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, boundary)
        buffer = buffer.slice(boundary + 2)
        let event = 'message'
        let data = ''
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7)
          else if (line.startsWith('data: ')) data += line.slice(6)
        }
        if (data !== '') yield { event, data: fromWireJson(data) }
      }
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
}
