/**
 * The window's security posture, as data the tests assert: web preferences, what may be navigated to, and the
 * handlers that deny navigation, new windows and permission requests. No Electron import at run time.
 */
import type { WebPreferences } from 'electron'

export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false
  }
}

/** Is `url` our own page (the packaged file, or the dev server in development)? */
export function isAppUrl(url: string, appUrl: string): boolean {
  try {
    const target = new URL(url)
    const app = new URL(appUrl)
    if (app.protocol === 'file:') return target.protocol === 'file:' && target.pathname === app.pathname
    return target.origin === app.origin
  } catch {
    return false
  }
}

export interface WebContentsLike {
  on(
    event: 'will-navigate' | 'will-redirect',
    listener: (event: { preventDefault(): void; url: string }, url: string) => void
  ): void
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void
}

export interface SessionLike {
  setPermissionRequestHandler(
    handler: (wc: unknown, permission: string, callback: (granted: boolean) => void) => void
  ): void
  setPermissionCheckHandler(handler: () => boolean): void
}

/**
 * Denies every navigation away from our page, every new window (http(s) links go to the system browser instead),
 * and every permission request (camera, notifications, …): the inspector needs none.
 */
export function lockDown(
  webContents: WebContentsLike,
  session: SessionLike,
  appUrl: string,
  openExternal: (url: string) => void
): void {
  const guard = (event: { preventDefault(): void }, url: string): void => {
    if (!isAppUrl(url, appUrl)) event.preventDefault()
  }
  webContents.on('will-navigate', guard)
  webContents.on('will-redirect', guard)
  webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) openExternal(url)
    return { action: 'deny' }
  })
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
  session.setPermissionCheckHandler(() => false)
}
