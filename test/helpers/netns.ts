/**
 * Network namespaces for fault tests: a hub namespace holding a Linux bridge, and host namespaces each joined to
 * it by a veth pair (one end in the host as eth0 with an address on one /24, the other end a port of the bridge).
 * Cutting a host's bridge port partitions it from the others; processes inside one host still reach each other.
 *
 * Needs root and iproute2 with `ip netns`. Processes run inside a host with `ip netns exec`, which execs the
 * command in place (signals reach it). A host's loopback is its own, so its peers' local APIs (127.0.0.1) are
 * reached through a relay: a small Node process inside the namespace that performs fetch() for the test.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** iproute2's `ip`, which is often outside a non-root PATH. */
export const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p)) ?? 'ip'

/** Why network-namespace tests cannot run here, or null when they can (a namespace is created and deleted). */
export function netnsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux'
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add)'
  const probe = `si-probe-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  const add = spawnSync(IP, ['netns', 'add', probe], { encoding: 'utf8' })
  if (add.error != null) return `cannot run ${IP}: ${add.error.message}`
  if (add.status !== 0) return `ip netns add failed: ${add.stderr.trim()}`
  spawnSync(IP, ['netns', 'del', probe])
  return null
}

export async function ip(...args: string[]): Promise<void> {
  try {
    await run(IP, args)
  } catch (err) {
    throw new Error(`ip ${args.join(' ')}: ${(err as { stderr?: string }).stderr?.trim() ?? String(err)}`, {
      cause: err
    })
  }
}

export interface NetnsHost {
  /** The namespace's name (for `ip netns exec`). */
  ns: string
  /** Its address on the lab's subnet. */
  address: string
  /** The name of its port on the hub's bridge (in the hub namespace). */
  port: string
}

export class NetnsLab {
  readonly suffix = Math.random().toString(36).slice(2, 8)
  readonly hub = `si-hub-${this.suffix}`
  readonly hosts = new Map<string, NetnsHost>()
  private readonly created: string[] = []
  private readonly relays: ChildProcess[] = []
  /** Deletes the namespaces even when the test run is interrupted before destroy(). */
  private readonly onExit = (): void => {
    for (const ns of this.created) spawnSync(IP, ['netns', 'del', ns])
  }

  /** @param subnet the first three octets, e.g. '10.231.0' (hosts get .2, .3, ...) */
  constructor(private readonly subnet = '10.231.0') {}

  /** Creates the hub (a bridge) and one namespace per host name, each with eth0 on the subnet. */
  async create(names: string[]): Promise<void> {
    process.once('exit', this.onExit)
    await ip('netns', 'add', this.hub)
    this.created.push(this.hub)
    await ip('-n', this.hub, 'link', 'set', 'lo', 'up')
    await ip('-n', this.hub, 'link', 'add', 'br0', 'type', 'bridge')
    await ip('-n', this.hub, 'link', 'set', 'br0', 'up')
    for (const [i, name] of names.entries()) {
      const host: NetnsHost = {
        ns: `si-${name}-${this.suffix}`,
        address: `${this.subnet}.${i + 2}`,
        port: `p-${name}`.slice(0, 15)
      }
      await ip('netns', 'add', host.ns)
      this.created.push(host.ns)
      await ip(
        'link',
        'add',
        'eth0',
        'netns',
        host.ns,
        'type',
        'veth',
        'peer',
        'name',
        host.port,
        'netns',
        this.hub
      )
      await ip('-n', this.hub, 'link', 'set', host.port, 'master', 'br0')
      await ip('-n', this.hub, 'link', 'set', host.port, 'up')
      await ip('-n', host.ns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0')
      await ip('-n', host.ns, 'link', 'set', 'lo', 'up')
      await ip('-n', host.ns, 'link', 'set', 'eth0', 'up')
      this.hosts.set(name, host)
    }
  }

  host(name: string): NetnsHost {
    const host = this.hosts.get(name)
    if (host == null) throw new Error(`no host ${name} in this lab`)
    return host
  }

  /** Runs a command inside a host's namespace: `ip netns exec <ns> ...`. */
  prefix(name: string): string[] {
    return [IP, 'netns', 'exec', this.host(name).ns]
  }

  /** Takes a host's bridge port down (cut) or up (heal). */
  async setLink(name: string, state: 'up' | 'down'): Promise<void> {
    await ip('-n', this.hub, 'link', 'set', this.host(name).port, state)
  }

  /**
   * A fetch() that runs inside a host's namespace (one relay process per call of this method), for
   * createHttpClient({ baseUrl, fetch }). Request and answer bodies are passed as text.
   */
  fetchIn(name: string): typeof fetch {
    const child = spawn(IP, ['netns', 'exec', this.host(name).ns, process.execPath, '-e', RELAY], {
      stdio: ['pipe', 'pipe', 'inherit']
    })
    this.relays.push(child)
    const pending = new Map<number, { resolve(r: Response): void; reject(e: Error): void }>()
    let next = 0
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const answer = JSON.parse(line) as RelayAnswer
      const waiter = pending.get(answer.id)
      pending.delete(answer.id)
      if (answer.error != null)
        waiter?.reject(new TypeError('fetch failed', { cause: new Error(answer.error) }))
      else
        waiter?.resolve(
          new Response(answer.body, { status: answer.status, headers: { 'content-type': answer.type } })
        )
    })
    child.once('exit', () => {
      for (const waiter of pending.values()) waiter.reject(new TypeError('fetch failed: the relay exited'))
      pending.clear()
    })
    return (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const id = next++
      const request = {
        id,
        url: String(input),
        method: init?.method ?? 'GET',
        headers: init?.headers ?? {},
        body: init?.body ?? null
      }
      return new Promise<Response>((resolve, reject) => {
        pending.set(id, { resolve, reject })
        child.stdin!.write(JSON.stringify(request) + '\n')
      })
    }) as typeof fetch
  }

  /** Stops the relays and deletes every namespace this lab created (their veth pairs go with them). */
  async destroy(): Promise<void> {
    for (const relay of this.relays) relay.kill()
    const problems: string[] = []
    for (const ns of this.created.reverse()) {
      await ip('netns', 'del', ns).catch((err: Error) => problems.push(err.message))
    }
    this.created.length = 0
    process.off('exit', this.onExit)
    if (problems.length > 0) throw new Error(problems.join('; '))
  }
}

interface RelayAnswer {
  id: number
  status: number
  type: string
  body: string
  error?: string
}

/** The relay: one JSON request per stdin line, one JSON answer per stdout line, requests run concurrently. */
const RELAY = `
const rl = require('node:readline').createInterface({ input: process.stdin })
rl.on('line', async (line) => {
  const { id, url, method, headers, body } = JSON.parse(line)
  let answer
  try {
    const res = await fetch(url, { method, headers, body })
    answer = { id, status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() }
  } catch (err) {
    answer = { id, error: String(err?.cause?.code ?? err?.cause?.message ?? err?.message ?? err) }
  }
  process.stdout.write(JSON.stringify(answer) + '\\n')
})
rl.on('close', () => process.exit(0))
`
