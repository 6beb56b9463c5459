/** The topic and key inputs every DHT form starts with, and their check before anything is sent. */
import { useState, type ReactNode } from 'react'
import { checkKey, checkTopic } from '../../../shared/topic-key.ts'

export function useTopicKey(placeholders: { topic?: string; key?: string } = {}): {
  topic: string
  key: string
  fields: ReactNode
  /** The reason the topic or key is invalid, or null. */
  problem(): string | null
} {
  const [topic, setTopic] = useState('')
  const [key, setKey] = useState('')
  const fields = (
    <>
      <label>
        Topic{' '}
        <input
          name="topic"
          value={topic}
          onChange={(e) => setTopic(e.target.value)}
          placeholder={placeholders.topic}
          required
        />
      </label>
      <label>
        Key{' '}
        <input
          name="key"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          placeholder={placeholders.key}
          required
        />
      </label>
    </>
  )
  const problem = (): string | null => {
    try {
      checkTopic(topic)
      checkKey(key)
      return null
    } catch (err) {
      return (err as Error).message
    }
  }
  return { topic, key, fields, problem }
}
