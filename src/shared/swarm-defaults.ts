/**
 * Swarm-wide settings every peer of one swarm must agree on, and the limits a peer enforces.
 * Defaults are deliberately NOT the public IPFS values, so a node never joins the public DHT by accident.
 */
export const DEFAULT_DHT_PROTOCOL = '/swarm-inspector/kad/1.0.0'
export const DEFAULT_NAMESPACE = 'swarm'
/** The protocol id of the public IPFS (Amino) DHT; refused as a setting. */
export const PUBLIC_IPFS_DHT_PROTOCOLS = ['/ipfs/kad/1.0.0', '/ipfs/lan/kad/1.0.0']

export const DEFAULT_API_HOST = '127.0.0.1'
export const DEFAULT_API_PORT = 8080
export const DEFAULT_API_URL = `http://${DEFAULT_API_HOST}:${DEFAULT_API_PORT}`

export interface RecordLimits {
  /** Longest topic, in UTF-8 bytes. */
  maxTopicBytes: number
  /** Longest key, in bytes. */
  maxKeyBytes: number
  /** Largest value, in bytes (before the signature envelope). */
  maxValueBytes: number
  /** How far in the future a record's creation time may be (clock skew allowance), ms. */
  maxClockSkewMs: number
  /** How old a record may be before peers refuse and drop it, ms. Publishers republish well before. */
  maxRecordAgeMs: number
  /** Provider records kept per key; further providers of that key are refused. */
  maxProvidersPerKey: number
}

export const DEFAULT_LIMITS: RecordLimits = {
  maxTopicBytes: 128,
  maxKeyBytes: 256,
  maxValueBytes: 64 * 1024,
  maxClockSkewMs: 5 * 60_000,
  maxRecordAgeMs: 36 * 3_600_000,
  maxProvidersPerKey: 64
}
