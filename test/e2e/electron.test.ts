/**
 * The desktop app end to end, with Playwright's Electron driver. It needs Electron's binary, which cannot be
 * downloaded on an offline machine: there the test is reported as skipped, not passed.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { _electron as electron } from 'playwright-core'
import { expect, test } from 'vitest'
import { installedElectron } from '../../scripts/electron-binary.ts'

const binary = installedElectron()

test.skipIf(binary == null)('the desktop window shows the peer over IPC, hardened', async () => {
  const userData = await mkdtemp(join(tmpdir(), 'swarm-inspector-electron-'))
  const app = await electron.launch({
    executablePath: binary!,
    args: ['out/main/index.js', `--user-data-dir=${userData}`],
    env: { ...process.env, ELECTRON_ENABLE_LOGGING: '1' }
  })
  try {
    const page = await app.firstWindow()
    await expect
      .poll(() => page.getByTestId('link-status').textContent(), { timeout: 30_000 })
      .toMatch(/live · desktop \(IPC\)/)
    expect(await page.getByTestId('own-peer-id').textContent()).toMatch(/^12D3KooW/)
    // The page has no Node and no ipcRenderer: only the one bridge object.
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined')
    const bridgeKeys = await page.evaluate(() =>
      Object.keys((globalThis as unknown as { swarm: object }).swarm)
    )
    expect(bridgeKeys.sort()).toEqual(['calls', 'streams'])
    // Sandboxed: no Node in the page, even though the preload ran.
    expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined')
  } finally {
    await app.close()
    await rm(userData, { recursive: true, force: true })
  }
})
