import { fromBase64, toBase64 } from './bytes.ts'

/**
 * JSON with bytes: a Uint8Array travels as `{ "$bytes": "<base64>" }`. Used by the HTTP API and its clients;
 * IPC does not need it (structured clone carries Uint8Array as is).
 */
export function toWireJson(value: unknown): string {
  // `this[key]` is the value before toJSON ran: Node's Buffer (a Uint8Array) would otherwise arrive here already
  // turned into { type: 'Buffer', data: [...] }.
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const original = this[key]
    return original instanceof Uint8Array ? { $bytes: toBase64(original) } : v
  })
}

export function fromWireJson(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v)
      const bytes = (v as { $bytes?: unknown }).$bytes
      if (keys.length === 1 && typeof bytes === 'string') {
        try {
          return fromBase64(bytes)
        } catch {
          throw new SyntaxError('"$bytes" must be base64')
        }
      }
    }
    return v
  })
}
