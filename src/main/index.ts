/**
 * Electron main process: window and IPC glue only. Everything else — the peer, its host, settings, the API — lives
 * in modules that do not import Electron and are tested under Node.
 *
 * Start-up order (one step each, as IPFS Desktop does): single-instance lock → settings → keystore passphrase →
 * peer host → IPC registrar → window. The peer is stopped before the app quits, so nothing is lost.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, safeStorage, session, shell } from 'electron'
import { join } from 'node:path'
import { CONTENT_SECURITY_POLICY } from '../shared/content-security-policy.ts'
import { PeerHost } from './host/peer-host.ts'
import electronUpdater from 'electron-updater'
import { menuTemplate } from './desktop/app-menu.ts'
import { checkForUpdatesWithConsent, updateFeedConfigured } from './desktop/updates.ts'
import { registerIpc, type IpcEventLike, type IpcMainLike } from './desktop/ipc-registrar.ts'
import { keystorePassphrase } from './desktop/keystore-passphrase.ts'
import { readSettings, writeSettings } from './desktop/settings-file.ts'
import { isAppUrl, lockDown, secureWebPreferences } from './desktop/window-security.ts'

const here = import.meta.dirname
const devServerUrl = !app.isPackaged ? process.env['ELECTRON_RENDERER_URL'] : undefined
const appUrl = devServerUrl ?? `file://${join(here, '../renderer/index.html')}`

let window: BrowserWindow | null = null
let host: PeerHost | null = null

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  app.on('second-instance', () => {
    if (window == null) return
    if (window.isMinimized()) window.restore()
    window.focus()
  })
  app.whenReady().then(start, fail)
}

async function start(): Promise<void> {
  const userData = app.getPath('userData')
  const settingsPath = join(userData, 'settings.json')
  const { settings, problems } = await readSettings(settingsPath)
  const passphrase = await keystorePassphrase(join(userData, 'identity-passphrase.bin'), safeStorage)

  host = new PeerHost({
    dataDir: join(userData, 'peer'),
    passphrase,
    settings,
    persist: (next) => writeSettings(settingsPath, next)
  })
  await host.start()

  registerIpc({
    ipc: ipcMain as unknown as IpcMainLike,
    handlers: host.handlers,
    isTrustedSender: (event: IpcEventLike) =>
      window != null &&
      event.sender.id === window.webContents.id &&
      event.senderFrame != null &&
      isAppUrl(event.senderFrame.url, appUrl)
  })

  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      menuTemplate(process.platform, {
        openDataFolder: () => void shell.openPath(userData),
        openDocs: () => void shell.openExternal('https://github.com/libp2p/js-libp2p'),
        checkForUpdates: () =>
          void checkForUpdatesWithConsent(
            electronUpdater.autoUpdater,
            {
              ask: async (message, detail, buttons) =>
                (await dialog.showMessageBox({ message, detail, buttons, cancelId: 1 })).response,
              tell: async (message, detail) => void (await dialog.showMessageBox({ message, detail }))
            },
            app.getVersion(),
            updateFeedConfigured(process.resourcesPath, app.isPackaged)
          )
      })
    )
  )

  // The CSP also travels as a header, so it holds even for responses that do not carry the meta tag.
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] }
    })
  })

  app.setAboutPanelOptions({
    applicationName: 'Swarm Inspector',
    applicationVersion: app.getVersion(),
    copyright: 'Copyright © 2026 swarm-inspector developers',
    credits: 'A Kademlia DHT inspector built on js-libp2p, Electron and React.',
    iconPath: join(process.resourcesPath, 'icon.png')
  })
  createWindow()
  for (const problem of problems) dialog.showErrorBox('Settings', problem)
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow()
  })
}

function createWindow(): void {
  window = new BrowserWindow({
    width: 1280,
    height: 820,
    show: false,
    title: 'Swarm Inspector',
    backgroundColor: '#0f1419',
    ...(process.platform === 'linux'
      ? { icon: join(app.isPackaged ? process.resourcesPath : join(here, '../../resources'), 'icon.png') }
      : {}),
    webPreferences: secureWebPreferences(join(here, '../preload/index.cjs'))
  })
  lockDown(window.webContents, session.defaultSession, appUrl, (url) => void shell.openExternal(url))
  window.once('ready-to-show', () => window?.show())
  window.on('closed', () => {
    window = null
  })
  if (devServerUrl != null) void window.loadURL(devServerUrl)
  else void window.loadFile(join(here, '../renderer/index.html'))
}

function fail(err: unknown): void {
  dialog.showErrorBox('Swarm Inspector could not start', (err as Error).message ?? String(err))
  app.exit(1)
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})

// Stop the peer (closing its datastore) before quitting, once.
let quitting = false
app.on('before-quit', (event) => {
  if (quitting || host == null) return
  event.preventDefault()
  quitting = true
  host
    .stop()
    .catch((err: unknown) => console.error('error while stopping the peer', err))
    .finally(() => app.quit())
})
