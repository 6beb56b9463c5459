/**
 * Updates, only with the user's consent: "Check for Updates…" asks the release feed, and each step — downloading,
 * then restarting to install — waits for a yes. Off entirely when the build has no feed (electron-builder writes
 * app-update.yml into the resources only when a publish target is configured), and in development.
 * Written against small interfaces so it is tested without Electron.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'

export interface UpdaterLike {
  autoDownload: boolean
  autoInstallOnAppQuit: boolean
  checkForUpdates(): Promise<{ updateInfo: { version: string } } | null>
  downloadUpdate(): Promise<unknown>
  quitAndInstall(): void
}

export interface AskLike {
  /** Shows a question; resolves with the index of the button chosen. */
  ask(message: string, detail: string, buttons: string[]): Promise<number>
  tell(message: string, detail: string): Promise<void>
}

export function updateFeedConfigured(resourcesPath: string, packaged: boolean): boolean {
  return packaged && existsSync(join(resourcesPath, 'app-update.yml'))
}

export async function checkForUpdatesWithConsent(
  updater: UpdaterLike,
  ui: AskLike,
  currentVersion: string,
  feed: boolean
): Promise<'off' | 'none' | 'declined' | 'installing' | 'failed'> {
  if (!feed) {
    await ui.tell('Updates are off', 'This build has no update feed configured.')
    return 'off'
  }
  // Never download or install anything on our own.
  updater.autoDownload = false
  updater.autoInstallOnAppQuit = false
  try {
    const result = await updater.checkForUpdates()
    const latest = result?.updateInfo.version
    if (latest == null || latest === currentVersion) {
      await ui.tell('Swarm Inspector is up to date', `You have version ${currentVersion}.`)
      return 'none'
    }
    if (
      (await ui.ask(`Version ${latest} is available`, `You have ${currentVersion}. Download it now?`, [
        'Download',
        'Not now'
      ])) !== 0
    )
      return 'declined'
    await updater.downloadUpdate()
    if (
      (await ui.ask(
        `Version ${latest} is ready`,
        'Restart Swarm Inspector to install it? The peer stops cleanly first.',
        ['Restart and install', 'Later']
      )) !== 0
    )
      return 'declined'
    updater.quitAndInstall()
    return 'installing'
  } catch (err) {
    await ui.tell('Could not check for updates', (err as Error).message)
    return 'failed'
  }
}
