/**
 * The command line: `serve` runs a peer; every other command is a client of a running peer's API.
 * Exit codes: 0 ok, 1 not found, 2 bad usage or invalid input, 3 API unreachable, 4 the operation failed.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { constants as osConstants } from 'node:os'
import { BRIDGE_SOCKET_ENV } from '../bridge/bridge-server.ts'
import type { PeerApiClient } from '../../shared/api-contract.ts'
import { displayKey, isUtf8, toBase64 } from '../../shared/bytes.ts'
import { ApiError, InvalidInputError, NotFoundError } from '../../shared/errors.ts'
import { createHttpClient } from '../../shared/http-client.ts'
import { DEFAULT_API_URL } from '../../shared/swarm-defaults.ts'
import { decodeValue, encodeValue, VALUE_ENCODINGS, type ValueEncoding } from '../../shared/value-encoding.ts'
import { EXIT, exitCodeFor } from './exit-codes.ts'
import { API_TOKEN_ENV, DEFAULT_API, runServe } from './serve.ts'

export interface CliIo {
  out(line: string): void
  err(line: string): void
}

const collect = (value: string, previous: string[]): string[] => [...previous, value]
const positiveSeconds = (value: string): number => {
  const seconds = Number(value)
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 7 * 86_400)
    throw new InvalidArgumentError('must be a number of seconds from 1 to 604800')
  return seconds
}

const meshPeers = (value: string): number => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 10_000)
    throw new InvalidArgumentError('must be a whole number from 0 to 10000')
  return n
}

interface ClientFlags {
  api: string
  json: boolean
  token?: string
}

/** Runs the CLI and resolves with the exit code (never calls process.exit, so it is testable in-process). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok
  const program = new Command('swarm-inspector')
    .description('See and use a Kademlia DHT swarm: run a peer (serve) or talk to a running one.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .showSuggestionAfterError()
    .enablePositionalOptions()

  program
    .command('serve')
    .description('run the peer headless with the local API')
    .option(
      '--data <dir>',
      'data directory (identity, datastore); default $SWARM_INSPECTOR_DATA or ~/.swarm-inspector'
    )
    .option('--listen <multiaddr>', 'listen address (repeatable)', collect, [])
    .option('--bootstrap <multiaddr>', 'bootstrap peer address with /p2p/<id> (repeatable)', collect, [])
    .option('--no-mdns', 'do not discover peers by multicast DNS')
    .option('--no-quic', 'do not load the QUIC transport')
    .option(
      '--republish-interval <seconds>',
      'how often this peer republishes its records and re-announces what it provides (default 3600)',
      positiveSeconds
    )
    .option(
      '--mesh-peers <n>',
      'keep a connection to every routing-table peer while the table holds at most N (default 150; 0: never)',
      meshPeers
    )
    .option('--api <host:port>', 'local API address; beyond loopback needs a token', DEFAULT_API)
    .option('--api-token-file <file>', `API token file (or $${API_TOKEN_ENV})`)
    .option('--passphrase-file <file>', 'identity passphrase file (or $SWARM_INSPECTOR_PASSPHRASE)')
    .option('--protocol <id>', 'DHT protocol id shared by the swarm')
    .option('--namespace <ns>', 'record key namespace shared by the swarm')
    .option('--swarm-key <file>', 'join a private swarm: its pre-shared key file (swarm.key)')
    .option('--ui <dir>', 'built UI to serve at / (default: out/renderer of this checkout)')
    .option('--no-bridge', 'no hyveOS SDK bridge (gRPC)')
    .option(
      '--bridge-socket <path>',
      'Unix socket for native gRPC (default: bridge.sock in the data directory)'
    )
    .option('--bridge-tcp <host:port>', 'also serve native gRPC on this loopback TCP address')
    .option('--no-bridge-web', 'no gRPC-web/Connect on the API port')
    .option(
      '--bridge-allow-origin <origin>',
      'web origin allowed to call the bridge (repeatable)',
      collect,
      []
    )
    .action(async (opts) => {
      await runServe(opts, io.out)
    })

  const client = (name: string, description: string): Command =>
    program
      .command(name)
      .description(description)
      .addOption(new Option('--api <url>', 'API of the running peer').default(DEFAULT_API_URL))
      .addOption(new Option('--token <token>', 'API token').env(API_TOKEN_ENV))
      .option('--json', 'machine-readable JSON output', false)

  const api = (flags: ClientFlags): PeerApiClient =>
    createHttpClient({ baseUrl: checkUrl(flags.api), ...(flags.token != null ? { token: flags.token } : {}) })
  const print = (flags: ClientFlags, json: unknown, text: string | string[]): void => {
    if (flags.json) io.out(JSON.stringify(json))
    else for (const line of [text].flat()) io.out(line)
  }

  client('id', 'print the peer id').action(async (flags: ClientFlags) => {
    const id = await api(flags).ownId({})
    print(flags, { peerId: id }, id)
  })

  client('put', 'store a record under a topic')
    .argument('<topic>')
    .argument('<key>')
    .argument('[value]', 'the value (or --file)')
    .addOption(
      new Option('--encoding <enc>', 'how VALUE is written').choices(VALUE_ENCODINGS).default('utf8')
    )
    .option('--file <path>', 'read the value bytes from a file')
    .action(
      async (
        topic: string,
        key: string,
        value: string | undefined,
        flags: ClientFlags & { encoding: ValueEncoding; file?: string }
      ) => {
        let bytes: Uint8Array
        if (flags.file != null) {
          if (value != null) throw new InvalidInputError('give either VALUE or --file, not both')
          bytes = await readFile(flags.file).catch((err: NodeJS.ErrnoException) => {
            throw new InvalidInputError(`cannot read ${flags.file}: ${err.code ?? err.message}`)
          })
        } else if (value != null) {
          bytes = encodeValue(value, flags.encoding)
        } else {
          throw new InvalidInputError('missing VALUE (or --file PATH)')
        }
        const result = await api(flags).putRecord({ topic, key, value: bytes })
        print(flags, result, `stored on ${result.accepted} of ${result.sentTo} peer(s) and locally`)
      }
    )

  client('get', 'look up a record')
    .argument('<topic>')
    .argument('<key>')
    .addOption(
      new Option('--decode <enc>', 'how to print the value (default: utf8 when valid, else hex)').choices(
        VALUE_ENCODINGS
      )
    )
    .action(async (topic: string, key: string, flags: ClientFlags & { decode?: ValueEncoding }) => {
      const { record } = await api(flags).getRecord({ topic, key })
      if (record == null) throw new NotFoundError(`no record for ${topic}/${key}`)
      const encoding = flags.decode ?? (isUtf8(record.value) ? 'utf8' : 'hex')
      const text = decodeValue(record.value, encoding)
      print(
        flags,
        {
          topic,
          key,
          value: text,
          encoding,
          valueBase64: toBase64(record.value),
          from: record.from,
          publisher: record.publisher,
          createdAt: new Date(record.createdAt).toISOString()
        },
        text
      )
    })

  client('remove', 'remove a record from this peer (local only)')
    .argument('<topic>')
    .argument('<key>')
    .action(async (topic: string, key: string, flags: ClientFlags) => {
      const result = await api(flags).removeRecord({ topic, key })
      if (!result.removed) throw new NotFoundError(`this peer holds no record for ${topic}/${key}`)
      print(flags, result, 'removed')
    })

  client('provide', 'announce this peer as a provider of a key')
    .argument('<topic>')
    .argument('<key>')
    .action(async (topic: string, key: string, flags: ClientFlags) => {
      const result = await api(flags).provide({ topic, key })
      print(flags, result, `providing ${topic}/${key} (${result.cid}), announced to ${result.sentTo} peer(s)`)
    })

  client('providers', 'find the providers of a key, printing each as it is found')
    .argument('<topic>')
    .argument('<key>')
    .action(async (topic: string, key: string, flags: ClientFlags) => {
      let found = 0
      for await (const provider of api(flags).getProviders({ topic, key })) {
        found++
        print(
          flags,
          provider,
          `${provider.peerId}${provider.addresses.length > 0 ? '  ' + provider.addresses.join(' ') : ''}`
        )
      }
      if (found === 0) throw new NotFoundError(`no providers for ${topic}/${key}`)
    })

  client('stop-providing', 'stop announcing this peer as a provider of a key')
    .argument('<topic>')
    .argument('<key>')
    .action(async (topic: string, key: string, flags: ClientFlags) => {
      const result = await api(flags).stopProviding({ topic, key })
      if (!result.stopped) throw new NotFoundError(`this peer does not provide ${topic}/${key}`)
      print(flags, result, 'stopped providing')
    })

  client('provided', 'list the keys this peer provides (--held: every provider record it stores)')
    .option('--held', 'show the provider records held here, by key', false)
    .action(async (flags: ClientFlags & { held: boolean }) => {
      const view = await api(flags).providerRecords({})
      const name = (k: { topic: string | null; keyDisplay: string | null; cid: string }): string =>
        k.topic != null ? `${k.topic}/${k.keyDisplay}  ${k.cid}` : k.cid
      if (flags.held) {
        print(
          flags,
          view.held.map((k) => ({ ...k, key: k.keyDisplay })),
          view.held.flatMap((k) => [
            name(k),
            ...k.providers.map((p) => `  ${p.peerId}  expires ${new Date(p.expiresAt).toISOString()}`)
          ])
        )
      } else {
        print(
          flags,
          view.provided.map((k) => ({ ...k, key: k.keyDisplay })),
          view.provided.length === 0 ? ['this peer provides no keys'] : view.provided.map(name)
        )
      }
    })

  client('replicas', 'ask the closest peers which copy of a record (or which providers) they hold')
    .argument('<topic>')
    .argument('<key>')
    .option('--providers', 'check provider records instead of the record', false)
    .option('--repair', 'then re-send the newest record to the closest peers', false)
    .action(
      async (topic: string, key: string, flags: ClientFlags & { providers: boolean; repair: boolean }) => {
        const client = api(flags)
        const report = await client.checkReplication({
          topic,
          key,
          kind: flags.providers ? 'providers' : 'record'
        })
        const lines = report.replicas.map(
          (r) =>
            `${r.status.padEnd(11)} ${r.peerId}${r.publisher != null ? `  by ${r.publisher} at ${new Date(r.createdAt ?? 0).toISOString()}` : ''}${r.providers != null ? `  ${r.providers.join(' ')}` : ''}${r.detail != null ? `  ${r.detail}` : ''}`
        )
        print(flags, report, lines.length > 0 ? lines : ['no peers are close to this key'])
        if (flags.repair && !flags.providers) {
          const repaired = await client.repairReplication({ topic, key })
          print(
            flags,
            repaired,
            `repaired: sent to ${repaired.sentTo} peer(s), ${repaired.accepted} stored it`
          )
        }
      }
    )

  client('dial', 'connect to a peer')
    .argument('<multiaddr>')
    .action(async (address: string, flags: ClientFlags) => {
      const result = await api(flags).dial({ multiaddr: address })
      print(flags, result, `connected to ${result.peerId} via ${result.remoteAddr}`)
    })

  client('run', "run a command (an SDK script) with HYVEOS_BRIDGE_SOCKET set to this peer's bridge socket")
    .argument('<command...>', 'the command and its arguments, after --')
    .passThroughOptions()
    .action(async (command: string[], flags: ClientFlags) => {
      const status = await api(flags).bridgeStatus({})
      if (status.socketPath == null) {
        throw new InvalidInputError(
          'the peer serves no bridge socket (started with --no-bridge, or it failed: see serve)'
        )
      }
      const [file, ...args] = command as [string, ...string[]]
      const env = {
        ...process.env,
        [BRIDGE_SOCKET_ENV]: status.socketPath,
        ...(status.web != null ? { HYVEOS_BRIDGE_URL: status.web } : {})
      }
      const child = spawn(file, args, { stdio: 'inherit', env })
      exitCode = await new Promise<number>((resolve) => {
        child.once('error', (err) => {
          io.err(`error: cannot run ${file}: ${err.message}`)
          resolve(EXIT.usage)
        })
        child.once('exit', (code, signal) =>
          resolve(code ?? (signal != null ? 128 + (osConstants.signals[signal] ?? 0) : EXIT.failed))
        )
      })
    })

  client('peers', 'list open connections').action(async (flags: ClientFlags) => {
    const connections = await api(flags).connections({})
    print(
      flags,
      connections,
      connections.map((c) => `${c.peerId}  ${c.remoteAddr}  ${c.direction}`)
    )
  })

  client('buckets', 'show the routing table by k-bucket').action(async (flags: ClientFlags) => {
    const table = await api(flags).routingTable({})
    const lines = [`${table.size} peer(s) in ${table.buckets.length} bucket(s), k=${table.k}`]
    for (const bucket of table.buckets) {
      lines.push(`bucket cpl=${bucket.cpl}  ${bucket.peers.length}/${table.k}`)
      for (const p of bucket.peers) {
        lines.push(
          `  ${p.peerId}  ${p.connected ? 'connected' : 'not connected'}${p.latencyMs != null ? `  ${p.latencyMs} ms` : ''}`
        )
      }
    }
    print(flags, table, lines)
  })

  client('records', 'list the records this peer stores')
    .option('--topic <topic>', 'only this topic')
    .action(async (flags: ClientFlags & { topic?: string }) => {
      const records = await api(flags).records(flags.topic != null ? { topic: flags.topic } : {})
      print(
        flags,
        records.map((r) => ({ ...r, key: displayKey(r.key), value: toBase64(r.value) })),
        records.length === 0
          ? ['no records']
          : records.map(
              (r) =>
                `${r.topic}/${r.keyDisplay}  ${r.size} B  by ${r.publisher}  ${new Date(r.createdAt).toISOString()}  ${r.signature}${r.mine ? '  (mine)' : ''}`
            )
      )
    })

  try {
    await program.parseAsync(argv, { from: 'user' })
  } catch (err) {
    exitCode = reportError(err, io)
  }
  return exitCode
}

function checkUrl(text: string): string {
  try {
    const url = new URL(text)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http')
    return url.origin
  } catch {
    throw new InvalidInputError(`--api must be a URL like http://127.0.0.1:8080, not ${JSON.stringify(text)}`)
  }
}

function reportError(err: unknown, io: CliIo): number {
  if (err instanceof CommanderError) {
    // Help and version are not errors; commander has already printed its message.
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.help' ||
      err.code === 'commander.version'
    )
      return EXIT.ok
    return EXIT.usage
  }
  if (err instanceof ApiError || (err instanceof Error && typeof err.name === 'string')) {
    io.err(`error: ${(err as Error).message}`)
    return exitCodeFor((err as Error).name)
  }
  io.err(`error: ${String(err)}`)
  return EXIT.failed
}
