/**
 * Packaging, checked here without Electron's binary: the production build plus the exact file set
 * electron-builder.yml selects (built output, package.json, production dependencies) packed into an asar with
 * @electron/asar, then inspected; the configuration against electron-builder's own schema; the rendered icons.
 */
import * as asar from '@electron/asar'
import Ajv from 'ajv'
import { execFileSync } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, sep } from 'node:path'
import { minimatch } from 'minimatch'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { parse } from 'yaml'
import { ICON_SIZES } from '../../scripts/icon-sizes.ts'

interface BuilderConfig {
  files: string[]
  asarUnpack: string[]
  [key: string]: unknown
}

const ROOT = process.cwd()
const config = parse(await readFile('electron-builder.yml', 'utf8')) as BuilderConfig
const pkg = JSON.parse(await readFile('package.json', 'utf8')) as {
  devDependencies: Record<string, string>
  dependencies: Record<string, string>
}

/**
 * electron-builder's file patterns, applied in order (later wins, "!" excludes): the app's own files are packaged
 * only when a pattern selects them; production dependencies are packaged unless a pattern excludes them.
 */
function selected(path: string): boolean {
  let keep = path.startsWith('node_modules/')
  for (const pattern of config.files) {
    const negate = pattern.startsWith('!')
    if (minimatch(path, negate ? pattern.slice(1) : pattern, { dot: true })) keep = !negate
  }
  return keep
}

let productionDirs: string[] = []

async function* walk(dir: string, skipNodeModules: boolean): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (skipNodeModules && entry.name === 'node_modules') continue
      yield* walk(full, skipNodeModules)
    } else if (entry.isFile()) yield full
  }
}

/** The files electron-builder would package: ours by pattern, and every production dependency's. */
async function packagedFiles(): Promise<string[]> {
  const files: string[] = []
  for await (const file of walk(join(ROOT, 'out'), true)) files.push(relative(ROOT, file))
  files.push('package.json')
  const prod = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: ROOT,
    encoding: 'utf8'
  })
    .split('\n')
    .filter((dir) => dir !== '' && dir !== ROOT)
  productionDirs = [...new Set(prod)].map((d) => relative(ROOT, d).split(sep).join('/'))
  for (const dir of new Set(prod)) {
    for await (const file of walk(dir, true)) files.push(relative(ROOT, file))
  }
  return files.map((f) => f.split(sep).join('/')).filter(selected)
}

let stage: string
let archive: string
let entries: string[]

beforeAll(async () => {
  const work = await mkdtemp(join(tmpdir(), 'swarm-inspector-pack-'))
  stage = join(work, 'app')
  archive = join(work, 'app.asar')
  for (const file of await packagedFiles()) {
    await mkdir(dirname(join(stage, file)), { recursive: true })
    await cp(join(ROOT, file), join(stage, file))
  }
  await asar.createPackageWithOptions(stage, archive, { unpack: `{${config.asarUnpack.join(',')}}` })
  entries = asar.listPackage(archive, { isPack: false }).map((e) => e.split(sep).join('/'))
}, 120_000)

afterAll(async () => rm(dirname(stage), { recursive: true, force: true }))

describe('the packaged app (asar)', () => {
  test('holds the main, preload and renderer entry points', () => {
    for (const entry of [
      '/package.json',
      '/out/main/index.js',
      '/out/preload/index.cjs',
      '/out/renderer/index.html'
    ]) {
      expect(entries).toContain(entry)
    }
  })

  test('the entry points parse, and every package main imports resolves inside the package', async () => {
    execFileSync(process.execPath, ['--check', join(stage, 'out/main/index.js')])
    execFileSync(process.execPath, ['--check', join(stage, 'out/preload/index.cjs')])
    const source = await readFile(join(stage, 'out/main/index.js'), 'utf8')
    const specifiers = [
      ...new Set([...source.matchAll(/(?:from|import)\s*\(?\s*"([^"./][^"]*)"/g)].map((m) => m[1]!))
    ].filter((s) => !s.startsWith('node:') && s !== 'electron')
    expect(specifiers.length).toBeGreaterThan(10)
    const script = `for (const s of ${JSON.stringify(specifiers)}) import.meta.resolve(s)`
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: join(stage, 'out/main') })
  })

  test('ships no tests, sources, source maps, dev dependencies or repository metadata', () => {
    const bad = entries.filter(
      (e) =>
        e.startsWith('/test/') ||
        e.startsWith('/src/') ||
        e.startsWith('/.git') ||
        e.endsWith('.map') ||
        /^\/(README|tsconfig|vitest|electron\.vite)/.test(e)
    )
    expect(bad).toEqual([])
    for (const dev of Object.keys(pkg.devDependencies)) {
      // A dev dependency that a production dependency also needs (@types/node, say) is rightly packaged.
      if (dev in pkg.dependencies || productionDirs.includes(`node_modules/${dev}`)) continue
      expect(
        entries.some((e) => e.startsWith(`/node_modules/${dev}/`)),
        dev
      ).toBe(false)
    }
    for (const dep of ['libp2p', '@libp2p/kad-dht', 'react', 'datastore-level', 'electron-updater']) {
      expect(
        entries.some((e) => e.startsWith(`/node_modules/${dep}/`)),
        dep
      ).toBe(true)
    }
  })

  test('the renderer page carries the Content-Security-Policy', () => {
    const html = asar.extractFile(archive, 'out/renderer/index.html').toString()
    expect(html).toMatch(
      /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;self&#39;/
    )
  })

  test('native modules (LevelDB, QUIC) sit outside the archive', async () => {
    const native = entries.filter((e) => e.endsWith('.node'))
    expect(native.some((e) => e.includes('classic-level'))).toBe(true)
    expect(native.some((e) => e.includes('libp2p-quic'))).toBe(true)
    for (const file of native) {
      expect((asar.statFile(archive, file.slice(1)) as { unpacked?: boolean }).unpacked, file).toBe(true)
      expect((await stat(join(`${archive}.unpacked`, file))).isFile()).toBe(true)
    }
  })
})

describe('electron-builder configuration', () => {
  test("is valid against electron-builder's own schema", async () => {
    const schema = JSON.parse(await readFile('node_modules/app-builder-lib/scheme.json', 'utf8')) as object
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema)
    const ok = validate(config)
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).toEqual([])
    expect(ok).toBe(true)
  })

  test('names the app and targets every platform as the installers need', () => {
    expect(config).toMatchObject({
      appId: 'io.swarm-inspector.app',
      productName: 'Swarm Inspector',
      asar: true,
      linux: { target: ['AppImage', 'deb', 'rpm'], category: 'Network' },
      win: { target: ['nsis'] },
      nsis: { perMachine: false, oneClick: false },
      mac: { target: ['dmg', 'zip'], hardenedRuntime: true }
    })
    expect(String(config['artifactName'])).toMatch(/\$\{version\}.*\$\{arch\}/)
  })
})

describe('icons', () => {
  test('every PNG size exists and decodes at its size; .ico and .icns are real', async () => {
    for (const size of ICON_SIZES) {
      const png = PNG.sync.read(await readFile(`build/icons/${size}x${size}.png`))
      expect([png.width, png.height]).toEqual([size, size])
    }
    expect(PNG.sync.read(await readFile('build/icon.png')).width).toBe(512)
    const ico = await readFile('build/icon.ico')
    expect([...ico.subarray(0, 4)]).toEqual([0, 0, 1, 0])
    const icns = await readFile('build/icon.icns')
    expect(icns.subarray(0, 4).toString('latin1')).toBe('icns')
    expect(icns.readUInt32BE(4)).toBe(icns.length)
  })
})
