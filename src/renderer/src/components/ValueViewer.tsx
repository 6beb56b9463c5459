/** A value seen four ways: UTF-8 text, pretty JSON, CBOR as a tree, and a hex dump. */
import { useState } from 'react'
import { isUtf8, utf8 } from '../../../shared/bytes.ts'
import { decodeCbor } from '../../../shared/value-encoding.ts'

type Mode = 'utf8' | 'json' | 'cbor' | 'hex'

function guess(value: Uint8Array): Mode {
  if (isUtf8(value)) {
    try {
      JSON.parse(utf8.decode(value))
      return 'json'
    } catch {
      return 'utf8'
    }
  }
  try {
    decodeCbor(value)
    return 'cbor'
  } catch {
    return 'hex'
  }
}

export function ValueViewer({ value }: { value: Uint8Array }) {
  const [mode, setMode] = useState<Mode>(() => guess(value))
  return (
    <div className="value-viewer">
      <div className="segmented" role="tablist" aria-label="Decode as">
        {(['utf8', 'json', 'cbor', 'hex'] as const).map((m) => (
          <button
            key={m}
            type="button"
            role="tab"
            aria-selected={mode === m}
            className={mode === m ? 'active' : ''}
            onClick={() => setMode(m)}
          >
            {m === 'utf8' ? 'UTF-8' : m.toUpperCase()}
          </button>
        ))}
        <span className="muted">{value.byteLength} bytes</span>
      </div>
      <Decoded value={value} mode={mode} />
    </div>
  )
}

function Decoded({ value, mode }: { value: Uint8Array; mode: Mode }) {
  try {
    switch (mode) {
      case 'utf8':
        return <pre className="value-text">{utf8.decode(value)}</pre>
      case 'json':
        return <pre className="value-text">{JSON.stringify(JSON.parse(utf8.decode(value)), null, 2)}</pre>
      case 'cbor':
        return (
          <div className="cbor-tree">
            <Tree node={decodeCbor(value)} />
          </div>
        )
      case 'hex':
        return <pre className="value-text mono">{hexDump(value)}</pre>
    }
  } catch (err) {
    return (
      <p className="error-note">
        Not {mode === 'utf8' ? 'UTF-8' : mode.toUpperCase()}: {(err as Error).message}
      </p>
    )
  }
}

function Tree({ node, name }: { node: unknown; name?: string }) {
  const label = name != null ? <span className="tree-key">{name}: </span> : null
  if (node !== null && typeof node === 'object') {
    const entries = Array.isArray(node) ? node.map((v, i) => [String(i), v] as const) : Object.entries(node)
    return (
      <details open>
        <summary>
          {label}
          <span className="muted">
            {Array.isArray(node) ? `array(${entries.length})` : `map(${entries.length})`}
          </span>
        </summary>
        <ul>
          {entries.map(([k, v]) => (
            <li key={k}>
              <Tree node={v} name={k} />
            </li>
          ))}
        </ul>
      </details>
    )
  }
  return (
    <div>
      {label}
      <span className={`tree-${typeof node}`}>{JSON.stringify(node)}</span>
    </div>
  )
}

export function hexDump(bytes: Uint8Array, max = 4096): string {
  const lines: string[] = []
  const shown = bytes.subarray(0, max)
  for (let i = 0; i < shown.length; i += 16) {
    const row = shown.subarray(i, i + 16)
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ')
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('')
    lines.push(`${i.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`)
  }
  if (bytes.length > max) lines.push(`… ${bytes.length - max} more bytes`)
  return lines.join('\n')
}
