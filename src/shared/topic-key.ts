import { utf8 } from './bytes.ts'
import { InvalidInputError } from './errors.ts'
import { DEFAULT_LIMITS, type RecordLimits } from './swarm-defaults.ts'

/**
 * A topic is a non-empty UTF-8 string without `/` (it becomes one segment of a DHT record key).
 * Throws InvalidInputError saying what is wrong.
 */
export function checkTopic(
  topic: string,
  limits: Pick<RecordLimits, 'maxTopicBytes'> = DEFAULT_LIMITS
): string {
  if (topic.length === 0) throw new InvalidInputError('topic must not be empty')
  if (topic.includes('/')) throw new InvalidInputError(`topic must not contain "/": ${JSON.stringify(topic)}`)
  if (topic.includes('\u0000')) throw new InvalidInputError('topic must not contain NUL characters')
  const size = utf8.encode(topic).byteLength
  if (size > limits.maxTopicBytes) {
    throw new InvalidInputError(`topic is ${size} bytes; the limit is ${limits.maxTopicBytes}`)
  }
  return topic
}

/** A key is bytes; a string key means its UTF-8 bytes. Must be non-empty and within the limit. */
export function checkKey(
  key: string | Uint8Array,
  limits: Pick<RecordLimits, 'maxKeyBytes'> = DEFAULT_LIMITS
): Uint8Array {
  const bytes = typeof key === 'string' ? utf8.encode(key) : key
  if (bytes.byteLength === 0) throw new InvalidInputError('key must not be empty')
  if (bytes.byteLength > limits.maxKeyBytes) {
    throw new InvalidInputError(`key is ${bytes.byteLength} bytes; the limit is ${limits.maxKeyBytes}`)
  }
  return bytes
}

export function checkValue(
  value: Uint8Array,
  limits: Pick<RecordLimits, 'maxValueBytes'> = DEFAULT_LIMITS
): Uint8Array {
  if (value.byteLength > limits.maxValueBytes) {
    throw new InvalidInputError(`value is ${value.byteLength} bytes; the limit is ${limits.maxValueBytes}`)
  }
  return value
}
