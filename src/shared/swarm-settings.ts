/**
 * The user's swarm settings: what the desktop app keeps in its settings file and `serve` takes as flags.
 * Changing any of them restarts the peer (the API server only when its own address changes).
 */
import { z } from 'zod'
import {
  DEFAULT_API_HOST,
  DEFAULT_API_PORT,
  DEFAULT_DHT_PROTOCOL,
  DEFAULT_NAMESPACE
} from './swarm-defaults.ts'

export const DEFAULT_LISTEN = [
  '/ip4/0.0.0.0/tcp/4101',
  '/ip4/0.0.0.0/tcp/4102/ws',
  '/ip4/0.0.0.0/udp/4101/quic-v1'
]

export const swarmSettingsSchema = z.strictObject({
  listen: z.array(z.string().min(1)).max(16),
  bootstrap: z.array(z.string().min(1)).max(64),
  mdns: z.boolean(),
  protocol: z.string().min(2).max(128),
  namespace: z.string().min(1).max(64),
  /** A private swarm's pre-shared key (the swarm.key file's text); null: an open swarm. */
  swarmKey: z.string().max(300).nullable(),
  api: z.strictObject({
    enabled: z.boolean(),
    host: z.string().min(1).max(64),
    port: z.number().int().min(0).max(65535)
  }),
  /** The hyveOS SDK bridge (gRPC); each listener can be turned off. */
  bridge: z.strictObject({
    /** Native gRPC on a Unix domain socket. */
    socket: z.boolean(),
    /** null: bridge.sock in the data directory. */
    socketPath: z.string().min(1).max(200).nullable(),
    /** Native gRPC on a loopback TCP port. */
    tcp: z.strictObject({
      enabled: z.boolean(),
      host: z.string().min(1).max(64),
      port: z.number().int().min(0).max(65535)
    }),
    /** gRPC-web and Connect on the local API port (when the API is on). */
    web: z.boolean(),
    /** Web origins besides the API's own that may call the bridge from a browser. */
    allowedOrigins: z.array(z.url()).max(16)
  })
})

export type SwarmSettings = z.infer<typeof swarmSettingsSchema>

/** A change to some settings; nested `api` may be partial too. */
export const swarmSettingsPatchSchema = swarmSettingsSchema
  .omit({ api: true, bridge: true })
  .partial()
  .extend({
    api: swarmSettingsSchema.shape.api.partial().optional(),
    bridge: swarmSettingsSchema.shape.bridge
      .omit({ tcp: true })
      .partial()
      .extend({ tcp: swarmSettingsSchema.shape.bridge.shape.tcp.partial().optional() })
      .strict()
      .optional()
  })
  .strict()

export type SwarmSettingsPatch = z.infer<typeof swarmSettingsPatchSchema>

export const DEFAULT_SETTINGS: SwarmSettings = {
  listen: DEFAULT_LISTEN,
  bootstrap: [],
  mdns: true,
  protocol: DEFAULT_DHT_PROTOCOL,
  namespace: DEFAULT_NAMESPACE,
  swarmKey: null,
  api: { enabled: false, host: DEFAULT_API_HOST, port: DEFAULT_API_PORT },
  bridge: {
    socket: true,
    socketPath: null,
    tcp: { enabled: false, host: '127.0.0.1', port: 50051 },
    web: true,
    allowedOrigins: []
  }
}

export function applySettingsPatch(current: SwarmSettings, patch: SwarmSettingsPatch): SwarmSettings {
  // A redacted key sent back unchanged keeps the key in force.
  const { swarmKey, ...rest } = patch
  return swarmSettingsSchema.parse({
    ...current,
    ...rest,
    ...(swarmKey !== undefined && swarmKey !== HIDDEN_SWARM_KEY ? { swarmKey } : {}),
    api: { ...current.api, ...patch.api },
    bridge: { ...current.bridge, ...patch.bridge, tcp: { ...current.bridge.tcp, ...patch.bridge?.tcp } }
  })
}

/** What API clients see instead of a swarm key: the key is a secret and never leaves the host. */
export const HIDDEN_SWARM_KEY = '<hidden>'

export function redactSettings(settings: SwarmSettings): SwarmSettings {
  return settings.swarmKey == null ? settings : { ...settings, swarmKey: HIDDEN_SWARM_KEY }
}
