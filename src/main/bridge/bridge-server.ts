/**
 * Where SDK scripts reach the bridge:
 *  - native gRPC over HTTP/2 on a Unix domain socket (the path the SDKs read from HYVEOS_BRIDGE_SOCKET), and
 *    optionally on a loopback TCP port;
 *  - gRPC-web and Connect on the local API port (http-api.ts mounts `webHandler` beside the inspector API).
 */
import { connectNodeAdapter } from '@connectrpc/connect-node'
import { rm, stat } from 'node:fs/promises'
import { createServer as createHttp2Server, type Http2Server, type ServerHttp2Session } from 'node:http2'
import { connect as netConnect, type AddressInfo } from 'node:net'
import type { PeerApiHandlers } from '../../shared/api-contract.ts'
import { InvalidInputError } from '../../shared/errors.ts'
import { isLoopbackHost } from '../api/request-guard.ts'
import { bridgeRoutes, type BridgeActivity } from './bridge-service.ts'

/** Largest request message the bridge reads; bigger ones get RESOURCE_EXHAUSTED. */
export const BRIDGE_READ_MAX_BYTES = 1024 * 1024
export const BRIDGE_SOCKET_ENV = 'HYVEOS_BRIDGE_SOCKET'
/** Request paths of the bridge's services (gRPC method paths are /<package>.<Service>/<Method>). */
export const BRIDGE_PATH = /^\/script\.(DHT|Discovery)\//

export interface BridgeInit {
  handlers: PeerApiHandlers
  /** Unix socket path for native gRPC; null: no socket listener. */
  socketPath: string | null
  /** Loopback TCP address for native gRPC; null: none. */
  tcp: { host: string; port: number } | null
}

export interface Bridge {
  socketPath: string | null
  tcp: string | null
  activity: BridgeActivity
  /** gRPC-web and Connect, for the HTTP API server to mount. */
  webHandler: ReturnType<typeof connectNodeAdapter>
  /** HTTP/2 sessions open on the native listeners, plus streams open over HTTP. */
  clients(): number
  close(): Promise<void>
}

export async function startBridge(init: BridgeInit): Promise<Bridge> {
  const activity: BridgeActivity = { openStreams: 0, calls: 0 }
  const routes = bridgeRoutes(init.handlers, activity)
  const native = connectNodeAdapter({
    routes,
    grpc: true,
    grpcWeb: false,
    connect: false,
    readMaxBytes: BRIDGE_READ_MAX_BYTES
  })
  const webHandler = connectNodeAdapter({
    routes,
    grpc: false,
    grpcWeb: true,
    connect: true,
    readMaxBytes: BRIDGE_READ_MAX_BYTES
  })
  const servers: Http2Server[] = []
  const sessions = new Set<ServerHttp2Session>()

  const listen = async (target: { path: string } | { host: string; port: number }): Promise<Http2Server> => {
    const server = createHttp2Server(native)
    server.on('session', (session) => {
      sessions.add(session)
      session.once('close', () => sessions.delete(session))
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      const done = (): void => {
        server.off('error', reject)
        resolve()
      }
      if ('path' in target) server.listen(target.path, done)
      else server.listen(target.port, target.host, done)
    })
    servers.push(server)
    return server
  }

  let socketPath: string | null = null
  let tcp: string | null = null
  try {
    if (init.socketPath != null) {
      await clearStaleSocket(init.socketPath)
      await listen({ path: init.socketPath })
      socketPath = init.socketPath
    }
    if (init.tcp != null) {
      if (!isLoopbackHost(init.tcp.host))
        throw new InvalidInputError(`the bridge's TCP listener binds to loopback only, not ${init.tcp.host}`)
      const server = await listen(init.tcp)
      const address = server.address() as AddressInfo
      tcp = `${init.tcp.host.includes(':') ? `[${init.tcp.host}]` : init.tcp.host}:${address.port}`
    }
  } catch (err) {
    await closeAll(servers, sessions)
    throw err
  }
  return {
    socketPath,
    tcp,
    activity,
    webHandler,
    clients: () => sessions.size + activity.openStreams,
    close: async () => {
      await closeAll(servers, sessions)
      if (socketPath != null) await rm(socketPath, { force: true })
    }
  }
}

/** A socket file left by a crashed run is removed; one that still answers belongs to a running peer. */
async function clearStaleSocket(path: string): Promise<void> {
  const exists = await stat(path).then(
    () => true,
    () => false
  )
  if (!exists) return
  const alive = await new Promise<boolean>((resolve) => {
    const probe = netConnect(path)
    probe.once('connect', () => {
      probe.destroy()
      resolve(true)
    })
    probe.once('error', () => resolve(false))
  })
  if (alive) throw new InvalidInputError(`another process is serving the bridge socket ${path}`)
  await rm(path, { force: true })
}

async function closeAll(servers: Http2Server[], sessions: Set<ServerHttp2Session>): Promise<void> {
  for (const session of sessions) session.close()
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve())
          setTimeout(() => {
            for (const session of sessions) session.destroy()
          }, 1_000).unref()
        })
    )
  )
}
