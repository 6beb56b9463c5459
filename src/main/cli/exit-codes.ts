import type { ApiErrorName } from '../../shared/errors.ts'

/** The CLI's exit codes (README documents them). */
export const EXIT = {
  ok: 0,
  notFound: 1,
  usage: 2,
  unreachable: 3,
  failed: 4
} as const

export function exitCodeFor(name: ApiErrorName | string): number {
  switch (name) {
    case 'NotFoundError':
      return EXIT.notFound
    case 'InvalidInputError':
    case 'ForbiddenError':
    case 'IdentityError':
      return EXIT.usage
    case 'UnavailableError':
      return EXIT.unreachable
    default:
      return EXIT.failed
  }
}
