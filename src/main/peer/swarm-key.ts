/**
 * Private swarms: a pre-shared key in the format go-libp2p and js-libp2p share (IPFS's `swarm.key`):
 *   /key/swarm/psk/1.0.0/
 *   /base16/
 *   <64 hex digits>
 * Peers without the same key cannot open a connection (libp2p's pnet protector). A malformed key stops the peer
 * from starting, with the reason.
 */
import { createHash } from 'node:crypto'
import { fromString, toString } from 'uint8arrays'
import { InvalidInputError } from '../../shared/errors.ts'

export interface SwarmKey {
  /** The key file in canonical form (base16), as the protector reads it. */
  file: Uint8Array
  /** A short, non-secret name for the key, to tell swarms apart in the UI. */
  fingerprint: string
}

const HEADER = '/key/swarm/psk/1.0.0/'

export function parseSwarmKey(text: string): SwarmKey {
  const lines = text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
  if (lines[0] !== HEADER) throw new InvalidInputError(`swarm key: the first line must be ${HEADER}`)
  const codec = lines[1]
  if (codec !== '/base16/' && codec !== '/base64/') {
    throw new InvalidInputError('swarm key: the second line must be /base16/ or /base64/')
  }
  if (lines.length !== 3)
    throw new InvalidInputError('swarm key: expected exactly three lines (header, encoding, key)')
  let psk: Uint8Array
  try {
    psk =
      codec === '/base16/'
        ? fromString(lines[2]!.toLowerCase(), 'base16')
        : fromString(lines[2]!, 'base64pad')
  } catch {
    throw new InvalidInputError(`swarm key: the key is not valid ${codec === '/base16/' ? 'hex' : 'base64'}`)
  }
  if (codec === '/base16/' && !/^[0-9a-fA-F]+$/.test(lines[2]!))
    throw new InvalidInputError('swarm key: the key is not valid hex')
  if (psk.length !== 32) throw new InvalidInputError(`swarm key: the key must be 32 bytes, not ${psk.length}`)
  return {
    file: fromString(`${HEADER}\n/base16/\n${toString(psk, 'base16')}`),
    fingerprint: createHash('sha256').update(psk).digest('hex').slice(0, 8)
  }
}
