/**
 * The desktop app's settings file (`settings.json` in Electron's userData). Read with validation — a damaged or
 * hand-edited file falls back to defaults field by field rather than stopping the app — and written atomically.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { DEFAULT_SETTINGS, swarmSettingsSchema, type SwarmSettings } from '../../shared/swarm-settings.ts'

export async function readSettings(path: string): Promise<{ settings: SwarmSettings; problems: string[] }> {
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { settings: DEFAULT_SETTINGS, problems: [] }
    return { settings: DEFAULT_SETTINGS, problems: [`${path} is not valid JSON; using defaults`] }
  }
  const whole = swarmSettingsSchema.safeParse(raw)
  if (whole.success) return { settings: whole.data, problems: [] }
  // Keep every field that is valid on its own.
  const problems: string[] = []
  const merged: Record<string, unknown> = { ...DEFAULT_SETTINGS }
  const given = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>
  for (const [field, schema] of Object.entries(swarmSettingsSchema.shape)) {
    if (!(field in given)) continue
    const one = schema.safeParse(given[field])
    if (one.success) merged[field] = one.data
    else problems.push(`settings.${field} is invalid; using the default`)
  }
  return { settings: swarmSettingsSchema.parse(merged), problems }
}

export async function writeSettings(path: string, settings: SwarmSettings): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const temp = `${path}.${process.pid}.tmp`
  await writeFile(temp, JSON.stringify(swarmSettingsSchema.parse(settings), null, 2) + '\n', { mode: 0o600 })
  await rename(temp, path)
}
