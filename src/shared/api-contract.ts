/**
 * The one API contract of swarm-inspector. Every caller and every transport is typed from this file:
 * the peer implements `PeerApiHandlers`, the HTTP server and the Electron IPC registrar route by `apiContract`,
 * and the HTTP and IPC clients implement `PeerApiClient`. Adding a method means adding it here and giving the peer
 * a handler; the type checker points at everything else.
 *
 * Inputs are zod schemas, checked at run time on every boundary; outputs are types (we produce them ourselves).
 */
import { z } from 'zod'
import { InvalidInputError } from './errors.ts'
import type { PeerEvent } from './events.ts'
import { swarmSettingsPatchSchema, type SwarmSettings } from './swarm-settings.ts'
import type {
  BridgeStatus,
  BucketsView,
  ConnectionInfo,
  DialResult,
  GetRecordResult,
  NodeInfo,
  ProviderFound,
  ProviderRecordsView,
  ProvideResult,
  PutRecordResult,
  QueryTrace,
  ProfilesView,
  ReplicationReport,
  VantageComparison,
  StoredRecordView
} from './views.ts'

const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'expected bytes' })
/** Keys are bytes; strings are taken as their UTF-8 bytes (validated again by the peer against its limits). */
const key = z.union([z.string(), bytes], { message: 'key must be a string or bytes' })
const topic = z.string({ message: 'topic must be a string' })
const topicKey = z.strictObject({ topic, key })
const none = z.strictObject({})
const profileName = z.strictObject({ name: z.string({ message: 'name must be a string' }) })

/** Marks a method's output type without a run-time schema. */
const returns = <T>(): T => undefined as T

const call = <I extends z.ZodType, O>(input: I, output: O) => ({ kind: 'call' as const, input, output })
const stream = <I extends z.ZodType, O>(input: I, item: O) => ({
  kind: 'stream' as const,
  input,
  output: item
})

export const apiContract = {
  // The seed's DHT service
  ownId: call(none, returns<string>()),
  putRecord: call(z.strictObject({ topic, key, value: bytes }), returns<PutRecordResult>()),
  getRecord: call(topicKey, returns<GetRecordResult>()),
  removeRecord: call(topicKey, returns<{ removed: boolean }>()),
  provide: call(topicKey, returns<ProvideResult>()),
  getProviders: stream(topicKey, returns<ProviderFound>()),
  stopProviding: call(topicKey, returns<{ stopped: boolean }>()),
  dial: call(
    z.strictObject({ multiaddr: z.string({ message: 'multiaddr must be a string' }) }),
    returns<DialResult>()
  ),
  // Inspection
  nodeInfo: call(none, returns<NodeInfo>()),
  routingTable: call(none, returns<BucketsView>()),
  records: call(z.strictObject({ topic: topic.optional() }), returns<StoredRecordView[]>()),
  providerRecords: call(none, returns<ProviderRecordsView>()),
  connections: call(none, returns<ConnectionInfo[]>()),
  queries: call(none, returns<QueryTrace[]>()),
  events: stream(none, returns<PeerEvent>()),
  checkReplication: call(
    z.strictObject({
      topic,
      key,
      kind: z.enum(['record', 'providers'], { message: 'kind must be record or providers' })
    }),
    returns<ReplicationReport>()
  ),
  repairReplication: call(topicKey, returns<PutRecordResult>()),
  // A second vantage point: the same lookup run here and on another peer's API, side by side.
  compareVantage: call(
    z.strictObject({
      topic,
      key,
      api: z.url({ protocol: /^https?$/, message: "api must be an http(s) URL of another peer's local API" }),
      token: z.string().max(200).optional()
    }),
    returns<VantageComparison>()
  ),
  // Settings (changing them restarts the peer)
  settings: call(none, returns<SwarmSettings>()),
  updateSettings: call(swarmSettingsPatchSchema, returns<{ settings: SwarmSettings; restarted: boolean }>()),
  // Swarm profiles (each with its own data directory)
  profiles: call(none, returns<ProfilesView>()),
  saveProfile: call(profileName, returns<ProfilesView>()),
  switchProfile: call(profileName, returns<ProfilesView>()),
  deleteProfile: call(profileName, returns<ProfilesView>()),
  // The hyveOS SDK bridge
  bridgeStatus: call(none, returns<BridgeStatus>())
} as const

export type ApiContract = typeof apiContract
export type MethodName = keyof ApiContract
export type CallMethod = { [M in MethodName]: ApiContract[M]['kind'] extends 'call' ? M : never }[MethodName]
export type StreamMethod = {
  [M in MethodName]: ApiContract[M]['kind'] extends 'stream' ? M : never
}[MethodName]

/** What a caller passes (before normalisation: keys may be strings). */
export type ApiInput<M extends MethodName> = z.input<ApiContract[M]['input']>
/** What a handler receives (after validation). */
export type ApiParsedInput<M extends MethodName> = z.output<ApiContract[M]['input']>
export type ApiOutput<M extends MethodName> = ApiContract[M]['output']

export interface CallOptions {
  signal?: AbortSignal
}

/** The peer's side: one function per method. */
export type PeerApiHandlers = {
  [M in MethodName]: ApiContract[M]['kind'] extends 'stream'
    ? (input: ApiParsedInput<M>, options: CallOptions) => AsyncIterable<ApiOutput<M>>
    : (input: ApiParsedInput<M>, options: CallOptions) => Promise<ApiOutput<M>>
}

/** Methods answered by whatever hosts the peer (it restarts the peer to apply them), not by the peer itself. */
export const hostMethods = [
  'settings',
  'updateSettings',
  'bridgeStatus',
  'compareVantage',
  'profiles',
  'saveProfile',
  'switchProfile',
  'deleteProfile'
] as const satisfies readonly MethodName[]
export type HostMethod = (typeof hostMethods)[number]
/** The peer's own part of the contract. */
export type PeerServiceHandlers = Omit<PeerApiHandlers, HostMethod>

/** The caller's side, the same over every transport. */
export type PeerApiClient = {
  [M in MethodName]: ApiContract[M]['kind'] extends 'stream'
    ? (input: ApiInput<M>, options?: CallOptions) => AsyncIterable<ApiOutput<M>>
    : (input: ApiInput<M>, options?: CallOptions) => Promise<ApiOutput<M>>
}

export const methodNames = Object.keys(apiContract) as MethodName[]

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(apiContract, name)
}

/** Validates an input against its method's schema; throws InvalidInputError listing every problem. */
export function parseInput<M extends MethodName>(method: M, input: unknown): ApiParsedInput<M> {
  const result = apiContract[method].input.safeParse(input ?? {})
  if (!result.success) {
    const problems = result.error.issues.map((i) =>
      i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message
    )
    throw new InvalidInputError(`invalid input for ${method}: ${problems.join('; ')}`)
  }
  return result.data as ApiParsedInput<M>
}
