import type { Client } from 'graphql-ws'

export interface Watched<T = any> {
  /** Every result delivered so far. */
  results: T[]
  /** Settles when the server completes the subscription (with every result) or ends it with an error. */
  ended: Promise<T[]>
  /**
   * Repeats `act` until a result arrives: the subscription is live from then on. graphql-ws does
   * not acknowledge a subscribe, so this is how a test knows, without guessing a delay.
   */
  untilDelivered(act: () => Promise<unknown>): Promise<T>
  unsubscribe(): void
}

const pollMs = 25

/** Subscribes and keeps every result, so a test can wait for the subscription to be live, then for its end. */
export function watch<T = any>(client: Client, query: string, variables: Record<string, unknown> = {}): Watched<T> {
  const results: T[] = []
  let unsubscribe = () => {}
  let finished = false
  const ended = new Promise<T[]>((resolve, reject) => {
    unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => void results.push(value as T),
        error: (error) => {
          finished = true
          reject(error)
        },
        complete: () => {
          finished = true
          resolve(results)
        },
      },
    )
  })
  ended.catch(() => {}) // a test that does not wait for the end must not fail on it
  return {
    results,
    ended,
    async untilDelivered(act) {
      const before = results.length
      for (let attempt = 0; results.length === before; attempt++) {
        if (finished) throw new Error(`the subscription ended before delivering: ${JSON.stringify(results)}`)
        if (attempt === 200) throw new Error('nothing was delivered')
        await act()
        for (let wait = 0; wait < 4 && results.length === before; wait++) await new Promise((resolve) => setTimeout(resolve, pollMs))
      }
      return results[before]
    },
    unsubscribe: () => unsubscribe(),
  }
}
