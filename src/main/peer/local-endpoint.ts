/**
 * Which of our addresses, and which network interface, a connection reaches a peer through — the thing to know on a
 * robot with Wi-Fi, Ethernet and a mesh radio. libp2p does not expose the local side of a connection, so for TCP this
 * reads the socket under it (other transports: unknown).
 */
import { networkInterfaces } from 'node:os'
import type { Connection } from '@libp2p/interface'

export interface LocalEndpoint {
  address: string
  interface: string | null
}

export function localEndpoint(connection: Connection): LocalEndpoint | null {
  const socket = (
    connection as unknown as { maConn?: { socket?: { localAddress?: string; localPort?: number } } }
  ).maConn?.socket
  if (socket?.localAddress == null) return null
  const ip = socket.localAddress.replace(/^::ffff:/, '')
  const name =
    Object.entries(networkInterfaces()).find(([, addrs]) => addrs?.some((a) => a.address === ip))?.[0] ?? null
  return {
    address: ip.includes(':') ? `[${ip}]:${socket.localPort}` : `${ip}:${socket.localPort}`,
    interface: name
  }
}
