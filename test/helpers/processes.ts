/**
 * Real `swarm-inspector` processes for black-box tests: `serve` daemons on free ports with temporary data
 * directories, and one-shot CLI commands. Everything started here is stopped by the test's teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { PASSPHRASE } from './swarm.ts'

export const BIN = fileURLToPath(new URL('../../bin/swarm-inspector.js', import.meta.url))

export interface ServeProcess {
  url: string
  peerId: string
  addresses: string[]
  dataDir: string
  child: ChildProcess
  output: string[]
  /** Resolves when the process has exited: its exit code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export interface StartServeOptions {
  /**
   * A command the serve process runs under, e.g. ['ip', 'netns', 'exec', 'ns1'] to start it inside a network
   * namespace (the prefix must exec the process in place, so that signals reach serve itself).
   */
  prefix?: string[]
}

const env = (): NodeJS.ProcessEnv => ({ ...process.env, SWARM_INSPECTOR_PASSPHRASE: PASSPHRASE })

export async function startServe(
  dataDir: string,
  extra: string[] = [],
  options: StartServeOptions = {}
): Promise<ServeProcess> {
  // Loopback and free ports unless the test names its own.
  const listen = extra.includes('--listen') ? [] : ['--listen', '/ip4/127.0.0.1/tcp/0']
  const api = extra.includes('--api') ? [] : ['--api', '127.0.0.1:0']
  const args = [BIN, 'serve', '--data', dataDir, ...listen, '--no-mdns', '--no-quic', ...api, ...extra]
  const [command, ...prefixArgs] = [...(options.prefix ?? []), process.execPath]
  const child = spawn(command!, [...prefixArgs, ...args], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] })
  const output: string[] = []
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()))
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal }))
  )
  const exited = ended.then(({ code }) => code)
  const lines = createInterface({ input: child.stdout! })
  const info = await new Promise<{ url: string; peerId: string; addresses: string[] }>((resolve, reject) => {
    const addresses: string[] = []
    let peerId = ''
    const timer = setTimeout(() => {
      // Not left running: nobody holds a handle on a serve that never said where its API is.
      child.kill('SIGKILL')
      reject(new Error(`serve did not start: ${output.join('')}`))
    }, 30_000)
    lines.on('line', (line) => {
      output.push(line)
      const [label, value] = line.split(/\s+/, 2) as [string, string]
      if (label === 'peer') peerId = line.split(/\s+/)[2] ?? ''
      if (label === 'listening') addresses.push(value)
      if (label === 'api') {
        clearTimeout(timer)
        resolve({ url: value, peerId, addresses })
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`serve exited with ${code}: ${output.join('\n')}`))
    })
  })
  return {
    ...info,
    dataDir,
    child,
    output,
    exited: ended,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode == null) child.kill(signal)
      return exited
    }
  }
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export async function cli(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...env(), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  return { code, stdout, stderr }
}

export interface RawResponse {
  status: number
  body: string
}

/** An HTTP request with full control of the headers (fetch refuses to set Host). */
export async function raw(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string
): Promise<RawResponse> {
  const url = new URL(path, base)
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => (text += c.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}
