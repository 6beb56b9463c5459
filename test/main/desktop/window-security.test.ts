import { readFile } from 'node:fs/promises'
import { describe, expect, test } from 'vitest'
import { CONTENT_SECURITY_POLICY } from '../../../src/shared/content-security-policy.ts'
import { isAppUrl, lockDown, secureWebPreferences } from '../../../src/main/desktop/window-security.ts'

const APP = 'file:///opt/swarm-inspector/resources/app.asar/out/renderer/index.html'

describe('window security', () => {
  test('web preferences: isolated, sandboxed, no Node, web security on, preload set', () => {
    const prefs = secureWebPreferences('/x/preload/index.cjs')
    expect(prefs).toMatchObject({
      preload: '/x/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false
    })
  })

  test('only our page counts as ours', () => {
    expect(isAppUrl(APP, APP)).toBe(true)
    expect(isAppUrl('file:///etc/passwd', APP)).toBe(false)
    expect(isAppUrl('https://evil.example/', APP)).toBe(false)
    expect(isAppUrl('http://localhost:5173/x', 'http://localhost:5173/')).toBe(true)
    expect(isAppUrl('http://localhost:5174/', 'http://localhost:5173/')).toBe(false)
    expect(isAppUrl('not a url', APP)).toBe(false)
  })

  test('navigation away, new windows and permission requests are denied; web links open outside', () => {
    const listeners: Record<string, (e: { preventDefault(): void; url: string }, url: string) => void> = {}
    let openHandler: ((d: { url: string }) => { action: 'deny' }) | undefined
    let permission: ((wc: unknown, p: string, cb: (granted: boolean) => void) => void) | undefined
    let check: (() => boolean) | undefined
    const opened: string[] = []
    lockDown(
      { on: (event, l) => void (listeners[event] = l), setWindowOpenHandler: (h) => void (openHandler = h) },
      {
        setPermissionRequestHandler: (h) => void (permission = h),
        setPermissionCheckHandler: (h) => void (check = h)
      },
      APP,
      (url) => opened.push(url)
    )
    const navigate = (event: string, url: string): boolean => {
      let prevented = false
      listeners[event]!({ preventDefault: () => (prevented = true), url }, url)
      return prevented
    }
    expect(navigate('will-navigate', 'https://evil.example/')).toBe(true)
    expect(navigate('will-redirect', 'file:///etc/passwd')).toBe(true)
    expect(navigate('will-navigate', APP)).toBe(false)
    expect(openHandler!({ url: 'https://libp2p.io/' })).toEqual({ action: 'deny' })
    expect(openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' })
    expect(opened).toEqual(['https://libp2p.io/'])
    const answers: boolean[] = []
    permission!(null, 'media', (granted) => answers.push(granted))
    permission!(null, 'notifications', (granted) => answers.push(granted))
    expect(answers).toEqual([false, false])
    expect(check!()).toBe(false)
  })
})

describe('Content-Security-Policy', () => {
  test('is strict: no inline or eval scripts, nothing but our own origin', () => {
    const directives = Object.fromEntries(
      CONTENT_SECURITY_POLICY.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)])
    )
    expect(directives['default-src']).toEqual(["'none'"])
    expect(directives['script-src']).toEqual(["'self'"])
    expect(directives['connect-src']).toEqual(["'self'"])
    expect(directives['object-src']).toEqual(["'none'"])
    expect(directives['base-uri']).toEqual(["'none'"])
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-(inline|eval)/)
  })

  test('the production renderer carries it as a meta tag', async () => {
    const html = await readFile('out/renderer/index.html', 'utf8')
    const meta = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/
      .exec(html)?.[1]
      ?.replaceAll('&#39;', "'")
    expect(meta).toBe(CONTENT_SECURITY_POLICY.replace("; frame-ancestors 'none'", ''))
    // No inline scripts in the built page: every script is a file of our own.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
  })

  test('the main process is ESM and the preload is CommonJS, as a sandboxed preload must be', async () => {
    const preload = await readFile('out/preload/index.cjs', 'utf8')
    expect(preload).toMatch(/require\("electron"\)/)
    expect(preload).not.toMatch(/^import /m)
    expect(preload.match(/require\("([^"]+)"\)/g)).toEqual(['require("electron")'])
    const main = await readFile('out/main/index.js', 'utf8')
    expect(main).toMatch(/^import .* from "electron";?$/m)
  })
})
