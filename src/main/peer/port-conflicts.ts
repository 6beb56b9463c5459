/**
 * A configured port that another program holds must not stop the peer: it starts on a free port instead and says
 * so, once, in words (a `note` line in the CLI, a notice in the UI).
 */
import { multiaddr } from '@multiformats/multiaddr'
import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'

async function tcpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)))
  })
}

async function udpFree(host: string, port: number, ipv6: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket(ipv6 ? 'udp6' : 'udp4')
    socket.once('error', () => resolve(false))
    socket.bind({ address: host, port, exclusive: true }, () => socket.close(() => resolve(true)))
  })
}

/** Rewrites listen addresses whose fixed port is taken to port 0, with a note for each. */
export async function avoidTakenPorts(listen: string[]): Promise<{ listen: string[]; notes: string[] }> {
  const notes: string[] = []
  const out: string[] = []
  for (const address of listen) {
    const parts = multiaddr(address).getComponents()
    const ip = parts[0]
    const transport = parts[1]
    const port = Number(transport?.value)
    if (
      ip == null ||
      transport == null ||
      !(transport.name === 'tcp' || transport.name === 'udp') ||
      !(port > 0)
    ) {
      out.push(address)
      continue
    }
    const host = ip.value ?? '0.0.0.0'
    const free =
      transport.name === 'tcp' ? await tcpFree(host, port) : await udpFree(host, port, ip.name === 'ip6')
    if (free) {
      out.push(address)
    } else {
      out.push(address.replace(`/${transport.name}/${port}`, `/${transport.name}/0`))
      notes.push(
        `${transport.name} port ${port} on ${host} is in use; listening on a free port instead (${address})`
      )
    }
  }
  return { listen: out, notes }
}
