/**
 * `swarm-inspector serve`: the peer headless, with the local API. This is how the swarm's robots run it.
 */
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { InvalidInputError } from '../../shared/errors.ts'
import { DEFAULT_API_HOST, DEFAULT_API_PORT } from '../../shared/swarm-defaults.ts'
import { fileURLToPath } from 'node:url'
import type { ApiServer } from '../api/http-api.ts'
import { uiIsBuilt } from '../api/static-ui.ts'
import { PeerHost } from '../host/peer-host.ts'
import { DEFAULT_SETTINGS, type SwarmSettings } from '../../shared/swarm-settings.ts'
import { isLoopbackHost } from '../api/request-guard.ts'
import type { SwarmPeer, SwarmPeerInit } from '../peer/swarm-peer.ts'
import { parseSwarmKey } from '../peer/swarm-key.ts'
import { parseApiAddress } from './api-address.ts'

export interface ServeOptions {
  data?: string
  listen: string[]
  bootstrap: string[]
  mdns: boolean
  quic: boolean
  /** Seconds between republishing this peer's records and re-announcing its provider records. */
  republishInterval?: number
  /** Keep a connection to every routing-table peer while the table holds at most this many; 0: no table mesh. */
  meshPeers?: number
  api: string
  protocol?: string
  namespace?: string
  passphraseFile?: string
  apiTokenFile?: string
  /** Directory of the built UI to serve at / (default: out/renderer of this checkout). */
  ui?: string
  /** false (--no-bridge): no SDK bridge at all. */
  bridge: boolean
  bridgeSocket?: string
  bridgeTcp?: string
  /** false (--no-bridge-web): no gRPC-web/Connect on the API port. */
  bridgeWeb: boolean
  bridgeAllowOrigin: string[]
  /** A private swarm's key file (swarm.key). */
  swarmKey?: string
}

export const PASSPHRASE_ENV = 'SWARM_INSPECTOR_PASSPHRASE'
export const API_TOKEN_ENV = 'SWARM_INSPECTOR_API_TOKEN'
export const DATA_ENV = 'SWARM_INSPECTOR_DATA'
export const DEFAULT_API = `${DEFAULT_API_HOST}:${DEFAULT_API_PORT}`

async function secretFrom(file: string | undefined, env: string, what: string): Promise<string | undefined> {
  if (file != null) {
    try {
      return (await readFile(file, 'utf8')).replace(/\r?\n$/, '')
    } catch (err) {
      throw new InvalidInputError(
        `cannot read the ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`
      )
    }
  }
  const value = process.env[env]
  return value != null && value !== '' ? value : undefined
}

async function readSwarmKey(file: string): Promise<string> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new InvalidInputError(
      `cannot read the swarm key file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`
    )
  }
  try {
    parseSwarmKey(text)
  } catch (err) {
    throw new InvalidInputError(`${file}: ${(err as Error).message}`)
  }
  return text
}

export interface RunningServe {
  host: PeerHost
  peer: SwarmPeer
  api: ApiServer
  uiBuilt: boolean
  stop(): Promise<void>
}

/** The built renderer in a checkout: out/renderer beside src/. */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../../out/renderer', import.meta.url))

/** The peer's settings that serve's flags choose (the rest are the host's settings or the peer's defaults). */
export function peerOptions(
  options: Pick<ServeOptions, 'quic' | 'republishInterval' | 'meshPeers'>
): Partial<Omit<SwarmPeerInit, 'dataDir' | 'passphrase'>> {
  return {
    quic: options.quic,
    ...(options.republishInterval != null
      ? {
          republishIntervalMs: options.republishInterval * 1000,
          reprovideIntervalMs: options.republishInterval * 1000
        }
      : {}),
    ...(options.meshPeers != null
      ? { tableMesh: options.meshPeers === 0 ? null : { maxPeers: options.meshPeers } }
      : {})
  }
}

export async function startServe(options: ServeOptions): Promise<RunningServe> {
  const api = parseApiAddress(options.api)
  const passphrase = await secretFrom(options.passphraseFile, PASSPHRASE_ENV, 'passphrase')
  if (passphrase == null) {
    throw new InvalidInputError(
      `serve needs the identity passphrase: set ${PASSPHRASE_ENV} or pass --passphrase-file FILE`
    )
  }
  const token = await secretFrom(options.apiTokenFile, API_TOKEN_ENV, 'API token')
  if (!isLoopbackHost(api.host) && token == null) {
    throw new InvalidInputError(
      `--api ${options.api} binds beyond loopback: set ${API_TOKEN_ENV} or pass --api-token-file FILE (16+ characters)`
    )
  }
  const settings: SwarmSettings = {
    ...DEFAULT_SETTINGS,
    listen: options.listen.length > 0 ? options.listen : DEFAULT_SETTINGS.listen,
    bootstrap: options.bootstrap,
    mdns: options.mdns,
    protocol: options.protocol ?? DEFAULT_SETTINGS.protocol,
    namespace: options.namespace ?? DEFAULT_SETTINGS.namespace,
    swarmKey: options.swarmKey != null ? await readSwarmKey(options.swarmKey) : null,
    api: { enabled: true, host: api.host, port: api.port },
    bridge: {
      socket: options.bridge,
      socketPath: options.bridgeSocket ?? null,
      tcp:
        options.bridge && options.bridgeTcp != null
          ? { enabled: true, ...parseApiAddress(options.bridgeTcp, '--bridge-tcp') }
          : DEFAULT_SETTINGS.bridge.tcp,
      web: options.bridge && options.bridgeWeb,
      allowedOrigins: options.bridgeAllowOrigin
    }
  }
  const ui = { root: options.ui ?? DEFAULT_UI_DIR }
  const uiBuilt = await uiIsBuilt(ui)
  const host = new PeerHost({
    dataDir: options.data ?? process.env[DATA_ENV] ?? join(homedir(), '.swarm-inspector'),
    passphrase,
    settings,
    peer: peerOptions(options),
    ...(token != null ? { apiToken: token } : {}),
    ...(uiBuilt ? { ui } : {})
  })
  try {
    await host.start()
  } catch (err) {
    await host.stop().catch(() => {})
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new InvalidInputError(
        `the API address ${options.api} is already in use (choose another with --api HOST:PORT)`
      )
    }
    throw err
  }
  return {
    host,
    peer: host.current as SwarmPeer,
    api: host.apiServer as ApiServer,
    uiBuilt,
    stop: () => host.stop()
  }
}

/** Runs until SIGINT/SIGTERM, then shuts down cleanly (API closed, node stopped, datastore closed). */
export async function runServe(options: ServeOptions, out: (line: string) => void): Promise<void> {
  const running = await startServe(options)
  const info = await running.peer.nodeInfo({}, {})
  out(`peer id    ${info.peerId}`)
  for (const address of info.listenAddresses) out(`listening  ${address}`)
  out(`transports ${info.transports.join(', ')}`)
  out(`dht        ${info.protocol} (namespace ${info.namespace}, ${info.dhtMode} mode)`)
  out(
    `swarm      ${info.privateSwarm != null ? `private (swarm key ${info.privateSwarm})` : 'open (no swarm key)'}`
  )
  out(`data       ${info.dataDir}`)
  for (const note of running.peer.notes) out(`note       ${note}`)
  if (running.api.notice != null) out(`note       ${running.api.notice}`)
  out(
    running.uiBuilt
      ? `ui         ${running.api.url}/`
      : 'note       the UI is not built (npm run build); the API works without it'
  )
  out(`api        ${running.api.url}`)
  const bridge = running.host.bridgeStatus()
  const where = [
    ...(bridge.socketPath != null ? [`unix:${bridge.socketPath} (gRPC)`] : []),
    ...(bridge.tcp != null ? [`${bridge.tcp} (gRPC)`] : []),
    ...(bridge.web != null ? [`${bridge.web} (gRPC-web, Connect)`] : [])
  ]
  out(`bridge     ${where.length > 0 ? where.join(', ') : 'off'}`)
  for (const problem of bridge.problems) out(`note       ${problem}`)

  await new Promise<void>((resolve) => {
    let stopping = false
    const stop = (signal: string): void => {
      if (stopping) return
      stopping = true
      out(`${signal}: stopping`)
      running
        .stop()
        .then(() => out('stopped'))
        .catch((err: unknown) => out(`error while stopping: ${(err as Error).message}`))
        .finally(resolve)
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
  })
}
