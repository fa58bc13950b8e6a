import type { Client } from 'graphql-ws'

export interface Watched<T = any> {
  /** Every result delivered so far, in arrival order. */
  results: T[]
  /** Settles when the server completes the subscription (with every result) or ends it with an error. */
  ended: Promise<T[]>
  /**
   * Repeats `act` (an action whose event the subscription must receive) until a result arrives: the
   * subscription is live from then on. graphql-ws does not acknowledge a subscribe, so this is how
   * a test knows, without guessing a delay, that a filtered-out event sent afterwards was really tested.
   */
  untilDelivered(act: () => Promise<unknown>): Promise<T>
  /** The first result (past or future) that matches. */
  until(matches: (result: T) => boolean): Promise<T>
  unsubscribe(): void
}

const pollMs = 25

/** A graphql-ws or graphql-sse client: both subscribe with a request and a sink. */
type Subscriber = Pick<Client, 'subscribe'>

/** Subscribes and keeps every result, so a test can assert on all that arrived, not only the first. */
export function watch<T = any>(client: Subscriber, query: string, variables: Record<string, unknown> = {}): Watched<T> {
  const results: T[] = []
  let waiters: { matches: (result: T) => boolean; resolve: (result: T) => void; reject: (error: unknown) => void }[] =
    []
  let failure: { error: unknown } | undefined
  let finished = false
  let unsubscribe = () => {}
  const ended = new Promise<T[]>((resolve, reject) => {
    unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          results.push(value as T)
          const met = waiters.filter((waiter) => waiter.matches(value as T))
          waiters = waiters.filter((waiter) => !met.includes(waiter))
          for (const waiter of met) waiter.resolve(value as T)
        },
        error: (error) => {
          finished = true
          failure = { error }
          for (const waiter of waiters) waiter.reject(error)
          waiters = []
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
        for (let wait = 0; wait < 4 && results.length === before; wait++) {
          await new Promise((resolve) => setTimeout(resolve, pollMs))
        }
      }
      return results[before]
    },
    until(matches) {
      const found = results.find(matches)
      if (found) return Promise.resolve(found)
      if (failure) return Promise.reject(failure.error)
      return new Promise((resolve, reject) => waiters.push({ matches, resolve, reject }))
    },
    unsubscribe: () => unsubscribe(),
  }
}
