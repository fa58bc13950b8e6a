import type { Client } from 'graphql-ws'

export interface Subscription<T> {
  /** Every result so far, in arrival order. */
  results: T[]
  /** The first result (past or future) that matches. */
  until(matches: (result: T) => boolean): Promise<T>
  unsubscribe(): void
}

/** Subscribes and keeps every result, so a test can assert on all that arrived, not only the first. */
export function subscribe<T = any>(client: Client, query: string, variables: Record<string, unknown> = {}): Subscription<T> {
  const results: T[] = []
  let waiters: { matches: (result: T) => boolean; resolve: (result: T) => void; reject: (error: unknown) => void }[] = []
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
export async function whenLive(subscription: Subscription<unknown>, probe: () => Promise<void>, rounds = 200): Promise<void> {
  for (let round = 0; round < rounds && subscription.results.length === 0; round++) await probe()
  if (subscription.results.length === 0) await subscription.until(() => true)
}
