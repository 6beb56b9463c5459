/**
 * `npm start`: the desktop app when Electron's binary can be had; otherwise browser mode — the same UI served by a
 * headless peer — with one line saying why and the URL to open.
 */
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { obtainElectron } from './electron-binary.ts'

const require = createRequire(import.meta.url)
// electron-vite's package exports do not include its bin, so find it beside its package.json.
const electronVite = join(dirname(require.resolve('electron-vite/package.json')), 'bin/electron-vite.js')
const cli = fileURLToPath(new URL('../bin/swarm-inspector.js', import.meta.url))

function run(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' })
    const forward = (signal: NodeJS.Signals): void => void child.kill(signal)
    process.on('SIGINT', forward)
    process.on('SIGTERM', forward)
    child.on('exit', (code, signal) => resolve(code ?? (signal != null ? 0 : 1)))
  })
}

if (obtainElectron() != null) {
  process.exitCode = await run([electronVite, 'preview'])
} else {
  console.log(
    "Electron's binary cannot be downloaded on this machine, so starting browser mode: open the ui URL below."
  )
  const built = await run([electronVite, 'build', '--logLevel', 'warn'])
  if (built !== 0) process.exit(built)
  process.exitCode = await run([cli, 'serve', ...process.argv.slice(2)])
}
