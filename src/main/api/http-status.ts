import type { ApiErrorName } from '../../shared/errors.ts'

/** HTTP status for each error name; the body always carries the name and message too. */
export const STATUS_FOR_ERROR: Record<ApiErrorName, number> = {
  InvalidInputError: 400,
  ForbiddenError: 403,
  NotFoundError: 404,
  AbortError: 499,
  InternalError: 500,
  LookupError: 502,
  UnavailableError: 503
}
