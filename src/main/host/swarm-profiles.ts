/**
 * Swarm profiles: named sets of the settings that define which swarm a node is in (swarm key, DHT protocol,
 * namespace, bootstrap list), saved in `<data>/profiles.json` (owner-only: it holds swarm keys) and switchable. Each
 * profile has its own data directory — identity, records, peers — so swarms never mix: "default" uses the base data
 * directory itself, any other `<data>/profiles/<name>`.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { InvalidInputError, NotFoundError } from '../../shared/errors.ts'
import type { SwarmSettings } from '../../shared/swarm-settings.ts'

export const DEFAULT_PROFILE = 'default'

const profileSchema = z.strictObject({
  name: z.string(),
  swarmKey: z.string().nullable(),
  protocol: z.string(),
  namespace: z.string(),
  bootstrap: z.array(z.string())
})
const fileSchema = z.strictObject({ active: z.string(), profiles: z.array(profileSchema) })

export type SwarmProfile = z.infer<typeof profileSchema>
type ProfilesFile = z.infer<typeof fileSchema>

export function checkProfileName(name: string): string {
  if (!/^[\w.-]{1,40}$/.test(name) || name === '.' || name === '..') {
    throw new InvalidInputError('a profile name is 1-40 letters, digits, "-", "_" or "."')
  }
  return name
}

export const profileOf = (name: string, s: SwarmSettings): SwarmProfile => ({
  name,
  swarmKey: s.swarmKey,
  protocol: s.protocol,
  namespace: s.namespace,
  bootstrap: s.bootstrap
})

export class SwarmProfiles {
  private constructor(
    private readonly baseDir: string,
    private state: ProfilesFile
  ) {}

  /** Loads the profiles, or starts them with the current settings as "default". */
  static async open(baseDir: string, current: SwarmSettings): Promise<SwarmProfiles> {
    let state: ProfilesFile
    try {
      state = fileSchema.parse(JSON.parse(await readFile(join(baseDir, 'profiles.json'), 'utf8')))
    } catch {
      state = { active: DEFAULT_PROFILE, profiles: [profileOf(DEFAULT_PROFILE, current)] }
    }
    if (!state.profiles.some((p) => p.name === state.active)) state.active = DEFAULT_PROFILE
    return new SwarmProfiles(baseDir, state)
  }

  get active(): string {
    return this.state.active
  }

  list(): SwarmProfile[] {
    return this.state.profiles.map((p) => ({ ...p }))
  }

  get(name: string): SwarmProfile {
    const profile = this.state.profiles.find((p) => p.name === name)
    if (profile == null) throw new NotFoundError(`no swarm profile named ${JSON.stringify(name)}`)
    return profile
  }

  dataDirOf(name: string): string {
    return name === DEFAULT_PROFILE ? this.baseDir : join(this.baseDir, 'profiles', name)
  }

  async save(profile: SwarmProfile): Promise<void> {
    checkProfileName(profile.name)
    this.state.profiles = [...this.state.profiles.filter((p) => p.name !== profile.name), profile].sort(
      (a, b) => a.name.localeCompare(b.name)
    )
    await this.write()
  }

  async activate(name: string): Promise<void> {
    this.get(name)
    this.state.active = name
    await this.write()
  }

  async remove(name: string): Promise<void> {
    this.get(name)
    if (name === this.state.active)
      throw new InvalidInputError('switch to another profile before deleting this one')
    if (name === DEFAULT_PROFILE) throw new InvalidInputError('the default profile cannot be deleted')
    this.state.profiles = this.state.profiles.filter((p) => p.name !== name)
    await this.write()
  }

  private async write(): Promise<void> {
    await mkdir(this.baseDir, { recursive: true, mode: 0o700 })
    const path = join(this.baseDir, 'profiles.json')
    const temp = `${path}.${process.pid}.tmp`
    await writeFile(temp, JSON.stringify(this.state, null, 2) + '\n', { mode: 0o600 })
    await rename(temp, path)
  }
}
