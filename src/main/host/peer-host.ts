/**
 * Hosts the swarm peer for both shapes of the app — Electron's main process and headless `serve`:
 * starts it from settings, restarts it when settings change, runs the local API server when enabled, and answers
 * the whole contract (`handlers`) so that callers keep one object across restarts. Imports nothing from Electron.
 */
import { pushable } from 'it-pushable'
import { queueIterable } from '../../shared/queue-iterable.ts'
import {
  apiContract,
  hostMethods,
  methodNames,
  type HostMethod,
  type CallOptions,
  type PeerApiHandlers,
  type PeerServiceHandlers
} from '../../shared/api-contract.ts'
import { InvalidInputError, UnavailableError } from '../../shared/errors.ts'
import type { PeerEvent } from '../../shared/events.ts'
import {
  applySettingsPatch,
  redactSettings,
  swarmSettingsSchema,
  type SwarmSettings
} from '../../shared/swarm-settings.ts'
import { startApiServer, type ApiServer } from '../api/http-api.ts'
import { isLoopbackHost } from '../api/request-guard.ts'
import type { StaticUi } from '../api/static-ui.ts'
import { SwarmPeer, type SwarmPeerInit } from '../peer/swarm-peer.ts'
import { startBridge, type Bridge } from '../bridge/bridge-server.ts'
import { compareVantage } from './vantage.ts'
import { checkProfileName, profileOf, SwarmProfiles, type SwarmProfile } from './swarm-profiles.ts'
import { join } from 'node:path'
import type { BridgeStatus, ProfilesView } from '../../shared/views.ts'

export interface PeerHostInit {
  dataDir: string
  passphrase: string
  settings: SwarmSettings
  /** Called with the new settings before they are applied (the desktop app writes its settings file). */
  persist?: (settings: SwarmSettings) => Promise<void>
  /** Bearer token for the API; required when the API binds beyond loopback. */
  apiToken?: string
  /** The built UI the API server also serves (browser mode). */
  ui?: StaticUi
  /** Peer options that are not user settings (QUIC, intervals, limits). */
  peer?: Partial<Omit<SwarmPeerInit, 'dataDir' | 'passphrase'>>
}

export class PeerHost {
  readonly handlers: PeerApiHandlers
  private peer: SwarmPeer | null = null
  private api: ApiServer | null = null
  private bridge: Bridge | null = null
  private profiles: SwarmProfiles | null = null
  /** The active profile's data directory (the base one for "default"). */
  private dataDir: string
  private bridgeProblems: string[] = []
  private settingsNow: SwarmSettings
  private readonly listeners = new Set<(event: PeerEvent) => void>()
  private unsubscribePeer: (() => void) | null = null
  private readonly shutdown = new AbortController()
  /** Serialises start/restart/stop so two settings changes never race. */
  private chain: Promise<unknown> = Promise.resolve()

  constructor(private readonly init: PeerHostInit) {
    this.settingsNow = swarmSettingsSchema.parse(init.settings)
    this.dataDir = init.dataDir
    this.handlers = this.buildHandlers()
  }

  get settings(): SwarmSettings {
    return this.settingsNow
  }

  get current(): SwarmPeer | null {
    return this.peer
  }

  get apiServer(): ApiServer | null {
    return this.api
  }

  async start(): Promise<void> {
    await this.serialised(async () => {
      // The active profile decides the data directory; the settings this host was started with (the desktop's
      // settings file, kept in step on every switch, or serve's flags) are what that profile now holds.
      this.profiles = await SwarmProfiles.open(this.init.dataDir, this.settingsNow)
      this.dataDir = this.profiles.dataDirOf(this.profiles.active)
      await this.profiles.save(profileOf(this.profiles.active, this.settingsNow))
      await this.startPeer()
      await this.startBridge()
      await this.startApi()
    })
  }

  async stop(): Promise<void> {
    this.shutdown.abort()
    await this.serialised(async () => {
      await this.stopApi()
      await this.stopBridge()
      await this.stopPeer()
    })
  }

  profilesView(): ProfilesView {
    const profiles = this.requireProfiles()
    return {
      active: profiles.active,
      profiles: profiles.list().map((p) => ({
        name: p.name,
        protocol: p.protocol,
        namespace: p.namespace,
        bootstrap: p.bootstrap,
        privateSwarm: p.swarmKey != null,
        dataDir: profiles.dataDirOf(p.name)
      }))
    }
  }

  /** Saves the current swarm settings (key, protocol, namespace, bootstrap) as a profile. */
  async saveProfile(name: string): Promise<ProfilesView> {
    await this.requireProfiles().save(profileOf(checkProfileName(name), this.settingsNow))
    return this.profilesView()
  }

  /** Switches to a profile: its swarm settings and its own data directory (identity, records, peers). */
  async switchProfile(name: string): Promise<ProfilesView> {
    const profiles = this.requireProfiles()
    const profile = profiles.get(name)
    const previous = { settings: this.settingsNow, dataDir: this.dataDir, active: profiles.active }
    const next = swarmSettingsSchema.parse({ ...this.settingsNow, ...swarmFieldsOf(profile) })
    try {
      await this.serialised(async () => {
        await this.stopPeer()
        this.settingsNow = next
        this.dataDir = profiles.dataDirOf(name)
        await this.startPeer()
      })
    } catch (err) {
      this.settingsNow = previous.settings
      this.dataDir = previous.dataDir
      await this.serialised(() => this.startPeer())
      throw new InvalidInputError(
        `profile ${name} did not start, stayed on ${previous.active}: ${(err as Error).message}`
      )
    }
    await profiles.activate(name)
    await this.init.persist?.(next)
    return this.profilesView()
  }

  async deleteProfile(name: string): Promise<ProfilesView> {
    await this.requireProfiles().remove(name)
    return this.profilesView()
  }

  private requireProfiles(): SwarmProfiles {
    if (this.profiles == null) throw new UnavailableError('the peer host has not started')
    return this.profiles
  }

  /** Where the SDK bridge listens and how busy it is. */
  bridgeStatus(): BridgeStatus {
    const web = this.settingsNow.bridge.web && this.api != null ? this.api.url : null
    return {
      socketPath: this.bridge?.socketPath ?? null,
      tcp: this.bridge?.tcp ?? null,
      web,
      clients: this.bridge?.clients() ?? 0,
      calls: this.bridge?.activity.calls ?? 0,
      problems: [...this.bridgeProblems]
    }
  }

  /** The bridge socket's path for these settings (default: bridge.sock in the data directory). */
  socketPathFor(settings: SwarmSettings): string {
    if (settings.bridge.socketPath != null) return settings.bridge.socketPath
    return process.platform === 'win32'
      ? '\\\\.\\pipe\\swarm-inspector-bridge'
      : join(this.init.dataDir, 'bridge.sock')
  }

  private async startBridge(): Promise<void> {
    const { bridge } = this.settingsNow
    this.bridgeProblems = []
    if (this.shutdown.signal.aborted || (!bridge.socket && !bridge.tcp.enabled && !bridge.web)) return
    try {
      this.bridge = await startBridge({
        handlers: this.handlers,
        socketPath: bridge.socket ? this.socketPathFor(this.settingsNow) : null,
        tcp: bridge.tcp.enabled ? { host: bridge.tcp.host, port: bridge.tcp.port } : null
      })
    } catch (err) {
      // The bridge is an extra: the peer and the inspector keep running without it, and the status says why.
      this.bridgeProblems.push(`the SDK bridge did not start: ${(err as Error).message}`)
    }
  }

  private async stopBridge(): Promise<void> {
    const bridge = this.bridge
    this.bridge = null
    await bridge?.close()
  }

  /** Applies a settings change: restarts the peer, and the bridge or API server if their own settings changed. */
  async update(
    patch: Parameters<PeerApiHandlers['updateSettings']>[0]
  ): Promise<{ settings: SwarmSettings; restarted: boolean }> {
    let next: SwarmSettings
    try {
      next = applySettingsPatch(this.settingsNow, patch)
    } catch (err) {
      throw new InvalidInputError(`invalid settings: ${(err as Error).message}`)
    }
    checkApiSettings(next, this.init.apiToken)
    const peerChanged =
      JSON.stringify({ ...next, api: null, bridge: null }) !==
      JSON.stringify({ ...this.settingsNow, api: null, bridge: null })
    const apiChanged = JSON.stringify(next.api) !== JSON.stringify(this.settingsNow.api)
    const bridgeChanged = JSON.stringify(next.bridge) !== JSON.stringify(this.settingsNow.bridge)
    if (!peerChanged && !apiChanged && !bridgeChanged) return { settings: next, restarted: false }
    await this.init.persist?.(next)
    const previous = this.settingsNow
    this.settingsNow = next
    if (peerChanged) {
      try {
        await this.serialised(async () => {
          await this.stopPeer()
          await this.startPeer()
        })
      } catch (err) {
        // The new settings do not start (a taken port, say): go back to the ones that did.
        this.settingsNow = previous
        await this.init.persist?.(previous)
        await this.serialised(() => this.startPeer())
        throw new InvalidInputError(
          `the peer did not start with the new settings, kept the old ones: ${(err as Error).message}`
        )
      }
    }
    if (peerChanged && this.profiles != null) await this.profiles.save(profileOf(this.profiles.active, next))
    if (bridgeChanged) await this.serialised(() => this.stopBridge().then(() => this.startBridge()))
    // The API answering this very call must finish its response before it is replaced, so apply that after.
    if (apiChanged)
      setTimeout(() => void this.serialised(() => this.stopApi().then(() => this.startApi())), 50)
    return { settings: next, restarted: peerChanged }
  }

  private async startPeer(): Promise<void> {
    if (this.shutdown.signal.aborted) return
    const s = this.settingsNow
    const peer = await SwarmPeer.start({
      ...this.init.peer,
      dataDir: this.dataDir,
      passphrase: this.init.passphrase,
      listen: s.listen,
      bootstrap: s.bootstrap,
      mdns: s.mdns,
      protocol: s.protocol,
      namespace: s.namespace,
      swarmKey: s.swarmKey
    })
    this.peer = peer
    this.unsubscribePeer = peer.subscribe((event) => this.emit(event))
    this.emit({ type: 'node:started', peerId: peer.peerId.toString(), at: Date.now() })
  }

  private async stopPeer(): Promise<void> {
    const peer = this.peer
    this.peer = null
    this.unsubscribePeer?.()
    this.unsubscribePeer = null
    await peer?.stop()
  }

  private async startApi(): Promise<void> {
    const { api } = this.settingsNow
    if (!api.enabled || this.shutdown.signal.aborted) return
    checkApiSettings(this.settingsNow, this.init.apiToken)
    this.api = await startApiServer({
      handlers: this.handlers,
      host: api.host,
      port: api.port,
      ...(this.init.apiToken != null ? { token: this.init.apiToken } : {}),
      ...(this.init.ui != null ? { ui: this.init.ui } : {}),
      fallbackPort: true,
      // Looked up per request, so a bridge restarted with new settings is served without restarting the API.
      bridge: () =>
        this.settingsNow.bridge.web && this.bridge != null
          ? { handler: this.bridge.webHandler, allowedOrigins: this.settingsNow.bridge.allowedOrigins }
          : null
    })
  }

  private async stopApi(): Promise<void> {
    const api = this.api
    this.api = null
    await api?.close()
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work, work)
    this.chain = next.catch(() => {})
    return next
  }

  private emit(event: PeerEvent): void {
    for (const listener of this.listeners) listener(event)
  }

  private requirePeer(): SwarmPeer {
    if (this.peer == null) throw new UnavailableError('the peer is restarting; try again in a moment')
    return this.peer
  }

  private buildHandlers(): PeerApiHandlers {
    const forward = (method: keyof PeerServiceHandlers) =>
      apiContract[method].kind === 'stream'
        ? (input: unknown, options: CallOptions) => callPeer(this.requirePeer(), method, input, options)
        : async (input: unknown, options: CallOptions) => callPeer(this.requirePeer(), method, input, options)
    const peerMethods = Object.fromEntries(
      methodNames
        .filter((m) => !(hostMethods as readonly string[]).includes(m) && m !== 'events')
        .map((m) => [m, forward(m as keyof PeerServiceHandlers)])
    )
    const forwardedNodeInfo = peerMethods['nodeInfo'] as PeerApiHandlers['nodeInfo']
    const host: Pick<PeerApiHandlers, HostMethod | 'events' | 'nodeInfo'> = {
      nodeInfo: async (input, options) => {
        const info = await forwardedNodeInfo(input, options)
        return {
          ...info,
          notices: [
            ...info.notices,
            ...(this.api?.notice != null ? [this.api.notice] : []),
            ...this.bridgeProblems
          ]
        }
      },
      settings: async () => redactSettings(this.settingsNow),
      bridgeStatus: async () => this.bridgeStatus(),
      compareVantage: async (input, options) => compareVantage(this.handlers, input, options),
      profiles: async () => this.profilesView(),
      saveProfile: async ({ name }) => this.saveProfile(name),
      switchProfile: async ({ name }) => this.switchProfile(name),
      deleteProfile: async ({ name }) => this.deleteProfile(name),
      updateSettings: async (patch) => {
        const { settings, restarted } = await this.update(patch)
        return { settings: redactSettings(settings), restarted }
      },
      // The event stream outlives peer restarts: it follows whichever peer is current.
      events: (_input, options) => {
        const queue = pushable<PeerEvent>({ objectMode: true })
        const listener = (event: PeerEvent): void => {
          queue.push(event)
        }
        this.listeners.add(listener)
        const end = (): void => {
          this.listeners.delete(listener)
          queue.end()
        }
        options.signal?.addEventListener('abort', end, { once: true })
        this.shutdown.signal.addEventListener('abort', end, { once: true })
        return queueIterable(queue, end)
      }
    }
    return { ...peerMethods, ...host } as PeerApiHandlers
  }
}

/** Calls one contract method on the peer by name; the contract guarantees the peer has it. */
function callPeer(
  peer: SwarmPeer,
  method: keyof PeerServiceHandlers,
  input: unknown,
  options: CallOptions
): unknown {
  const fn = peer[method] as (input: unknown, options: CallOptions) => unknown
  return fn.call(peer, input, options)
}

export function checkApiSettings(settings: SwarmSettings, token: string | undefined): void {
  if (settings.api.enabled && !isLoopbackHost(settings.api.host) && (token == null || token.length < 16)) {
    throw new InvalidInputError(
      `the API may bind to ${settings.api.host} (beyond loopback) only with a token of 16+ characters`
    )
  }
}

const swarmFieldsOf = (
  p: SwarmProfile
): Pick<SwarmSettings, 'swarmKey' | 'protocol' | 'namespace' | 'bootstrap'> => ({
  swarmKey: p.swarmKey,
  protocol: p.protocol,
  namespace: p.namespace,
  bootstrap: p.bootstrap
})
