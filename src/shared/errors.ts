/**
 * One error class per failure, each with a stable `name` that survives any transport
 * (HTTP, IPC, CLI exit codes); callers branch on `err.name`.
 */
export type ApiErrorName =
  | 'InvalidInputError'
  | 'NotFoundError'
  | 'ForbiddenError'
  | 'UnavailableError'
  | 'LookupError'
  | 'InternalError'
  | 'AbortError'

export class ApiError extends Error {
  override readonly name: ApiErrorName
  constructor(name: ApiErrorName, message: string) {
    super(message)
    this.name = name
  }
}

export class InvalidInputError extends ApiError {
  constructor(message: string) {
    super('InvalidInputError', message)
  }
}
export class NotFoundError extends ApiError {
  constructor(message: string) {
    super('NotFoundError', message)
  }
}
export class ForbiddenError extends ApiError {
  constructor(message: string) {
    super('ForbiddenError', message)
  }
}
export class UnavailableError extends ApiError {
  constructor(message: string) {
    super('UnavailableError', message)
  }
}
export class LookupError extends ApiError {
  constructor(message: string) {
    super('LookupError', message)
  }
}

export interface SerializedError {
  name: ApiErrorName
  message: string
}

const KNOWN: ReadonlySet<string> = new Set<ApiErrorName>([
  'InvalidInputError',
  'NotFoundError',
  'ForbiddenError',
  'UnavailableError',
  'LookupError',
  'InternalError',
  'AbortError'
])

/** Flattens any thrown value into the shape every transport carries. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const name = KNOWN.has(err.name) ? (err.name as ApiErrorName) : 'InternalError'
    return { name, message: err.message || err.name }
  }
  return { name: 'InternalError', message: String(err) }
}

export function deserializeError(err: SerializedError): ApiError {
  return new ApiError(KNOWN.has(err.name) ? err.name : 'InternalError', err.message)
}
