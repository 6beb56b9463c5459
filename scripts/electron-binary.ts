/**
 * Where Electron's binary is, if this machine has it. The `electron` package downloads its binary lazily on first
 * launch; offline (as on CI here) that download cannot succeed.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const electronDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'))

/** The binary's path when it is installed; null otherwise. Never downloads. */
export function installedElectron(): string | null {
  const pathFile = join(electronDir, 'path.txt')
  if (!existsSync(pathFile)) return null
  const relative = readFileSync(pathFile, 'utf8')
  const override = process.env['ELECTRON_OVERRIDE_DIST_PATH']
  const binary = override != null ? join(override, relative) : join(electronDir, 'dist', relative)
  return existsSync(binary) ? binary : null
}

/** The binary, downloading it once if needed (bounded in time); null when it cannot be obtained. */
export function obtainElectron(timeoutMs = 120_000): string | null {
  const present = installedElectron()
  if (present != null) return present
  spawnSync(process.execPath, [join(electronDir, 'install.js')], { stdio: 'ignore', timeout: timeoutMs })
  return installedElectron()
}
