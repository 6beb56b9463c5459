/**
 * The renderer's Content-Security-Policy, the same for the desktop window (meta tag and response header) and for
 * browser mode (header from the local API). Nothing but our own scripts and styles; the only network peer is
 * our own origin (the HTTP API in browser mode; IPC needs none).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')
