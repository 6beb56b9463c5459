import react from '@vitejs/plugin-react'
import { defineConfig } from 'electron-vite'
import type { Plugin } from 'vite'
import { resolve } from 'node:path'
import { CONTENT_SECURITY_POLICY } from './src/shared/content-security-policy.ts'

/**
 * Puts the one Content-Security-Policy (src/shared/content-security-policy.ts) into the page as a meta tag.
 * `frame-ancestors` only works as a header, so it is left out of the meta. In development only, the Vite dev
 * server needs an inline React refresh preamble and a WebSocket for hot reload; production keeps the strict policy.
 */
function cspMeta(): Plugin {
  let dev = false
  return {
    name: 'swarm-inspector:csp-meta',
    configResolved: (config) => {
      dev = config.command === 'serve'
    },
    transformIndexHtml: () => {
      let policy = CONTENT_SECURITY_POLICY.split('; ')
        .filter((d) => !d.startsWith('frame-ancestors'))
        .join('; ')
      if (dev) {
        policy = policy
          .replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
          .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
          .replace("connect-src 'self'", "connect-src 'self' ws://localhost:* http://localhost:*")
      }
      return [
        {
          tag: 'meta',
          attrs: { 'http-equiv': 'Content-Security-Policy', content: policy },
          injectTo: 'head-prepend'
        }
      ]
    }
  }
}

export default defineConfig({
  main: {
    build: {
      rollupOptions: { input: { index: resolve('src/main/index.ts') } }
    }
  },
  preload: {
    build: {
      // A sandboxed preload can require nothing but electron: bundle its dependencies (zod, the contract).
      externalizeDeps: false,
      // A sandboxed preload cannot be an ES module: emit CommonJS even though the package is "type": "module".
      rollupOptions: {
        input: { index: resolve('src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' }
      }
    }
  },
  renderer: {
    root: 'src/renderer',
    build: {
      rollupOptions: { input: { index: resolve('src/renderer/index.html') } }
    },
    plugins: [react(), cspMeta()]
  }
})
