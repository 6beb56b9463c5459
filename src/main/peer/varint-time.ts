import * as varint from 'uint8-varint'

/** kad-dht stores a provider record's time as a varint of epoch milliseconds. */
export const varintTime = (bytes: Uint8Array): number => varint.decode(bytes)
