/**
 * Serves the built renderer (`out/renderer`) so the same UI runs in a browser against `serve` (browser mode).
 * GET/HEAD only, no directory listings, no path escapes, and the same strict Content-Security-Policy as the
 * desktop window.
 */
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, resolve, sep } from 'node:path'
import type { ServerResponse } from 'node:http'
import { CONTENT_SECURITY_POLICY } from '../../shared/content-security-policy.ts'

export interface StaticUi {
  /** Directory holding index.html and assets/. */
  root: string
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2'
}

export async function uiIsBuilt(ui: StaticUi): Promise<boolean> {
  return stat(join(ui.root, 'index.html')).then(
    (s) => s.isFile(),
    () => false
  )
}

/** Answers a GET for the UI; false when the path is not a UI file (the caller answers 404). */
export async function serveUi(
  ui: StaticUi,
  pathname: string,
  res: ServerResponse,
  head: boolean
): Promise<boolean> {
  const root = resolve(ui.root)
  let relative: string
  try {
    relative = decodeURIComponent(pathname)
  } catch {
    return false
  }
  if (relative === '/' || relative === '') relative = '/index.html'
  const file = resolve(join(root, normalize(relative)))
  if (file !== root && !file.startsWith(root + sep)) return false
  let body: Buffer
  try {
    if (!(await stat(file)).isFile()) return false
    body = await readFile(file)
  } catch {
    return false
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': body.length,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cache-control': relative.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'
  })
  res.end(head ? undefined : body)
  return true
}
