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
        for (let wait = 0; wait < 4 && results.length === before; wait++)
          await new Promise((resolve) => setTimeout(resolve, pollMs))
      }
      return results[before]
    },
    unsubscribe: () => unsubscribe(),
  }
}

export interface Subscription<T> {
  /** Every result so far, in arrival order. */
  results: T[]
  /** The first result (past or future) that matches. */
  until(matches: (result: T) => boolean): Promise<T>
  unsubscribe(): void
}

/** Subscribes and keeps every result, so a test can assert on all that arrived, not only the first. */
export function subscribe<T = any>(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
): Subscription<T> {
  const results: T[] = []
  let waiters: { matches: (result: T) => boolean; resolve: (result: T) => void; reject: (error: unknown) => void }[] =
    []
  let failure: { error: unknown } | undefined
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        results.push(value as T)
        const met = waiters.filter((waiter) => waiter.matches(value as T))
        waiters = waiters.filter((waiter) => !met.includes(waiter))
        for (const waiter of met) waiter.resolve(value as T)
      },
      error: (error) => {
        failure = { error }
        for (const waiter of waiters) waiter.reject(error)
        waiters = []
      },
      complete: () => {},
    },
  )
  return {
    results,
    until(matches) {
      const found = results.find(matches)
      if (found) return Promise.resolve(found)
      if (failure) return Promise.reject(failure.error)
      return new Promise((resolve, reject) => waiters.push({ matches, resolve, reject }))
    },
    unsubscribe,
  }
}

/**
 * Resolves once the server delivers to this subscription: repeats `probe`, an action whose
 * event the subscription must receive, until a result has arrived. After this, anything the
 * server publishes reaches the subscription's filter, so a filtered-out event is really tested.
 */
export async function whenLive(
  subscription: Subscription<unknown>,
  probe: () => Promise<void>,
  rounds = 200,
): Promise<void> {
  for (let round = 0; round < rounds && subscription.results.length === 0; round++) await probe()
  if (subscription.results.length === 0) await subscription.until(() => true)
}
