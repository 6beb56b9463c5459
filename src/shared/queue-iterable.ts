import type { Pushable } from 'it-pushable'

/**
 * Exposes a pushable queue as an AsyncIterable whose consumer stopping early (break, return) runs `onStop`:
 * how a subscription learns that nobody reads it any more.
 */
export function queueIterable<T>(queue: Pushable<T>, onStop: () => void): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => {
      const iterator = queue[Symbol.asyncIterator]()
      return {
        next: () => iterator.next(),
        return: async () => {
          onStop()
          return { done: true, value: undefined }
        }
      }
    }
  }
}
