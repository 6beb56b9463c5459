import { InvalidInputError } from '../../shared/errors.ts'

/** Parses `HOST:PORT` as given to `serve --api` (IPv6 in brackets: `[::1]:8080`). */
export function parseApiAddress(text: string, flag = '--api'): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text)
  const port = Number(match?.[3])
  if (match == null || port > 65535) {
    throw new InvalidInputError(
      `${flag} must be HOST:PORT (for example 127.0.0.1:8080 or [::1]:8080), not ${JSON.stringify(text)}`
    )
  }
  return { host: (match[1] ?? match[2]) as string, port }
}
