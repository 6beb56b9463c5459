/** The application menu as a template (Electron builds it); roles give each platform its usual items. */
import type { MenuItemConstructorOptions } from 'electron'

export function menuTemplate(
  platform: NodeJS.Platform,
  actions: { openDataFolder(): void; openDocs(): void; checkForUpdates(): void }
): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin'
  return [
    ...(mac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open Data Folder', click: actions.openDataFolder },
        { type: 'separator' },
        mac ? { role: 'close' } : { role: 'quit' }
      ]
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        { role: 'toggleDevTools' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' }
      ]
    },
    { role: 'windowMenu' },
    {
      role: 'help',
      submenu: [
        { label: 'Check for Updates…', click: actions.checkForUpdates },
        ...(mac ? [] : [{ role: 'about' as const }]),
        { label: 'swarm-inspector on the web', click: actions.openDocs }
      ]
    }
  ]
}
