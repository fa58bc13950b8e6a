import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql'

type Results = AsyncIterableIterator<ExecutionResult>

/**
 * Subscriptions whose results may be shared: one execution per published event for every
 * subscriber of the same operation (document, operation name, variables) with the same scopes,
 * instead of one per subscriber. A live event is one object handed to every subscriber, so the
 * first subscriber to reach it executes the selection and the others reuse that result; what a
 * subscriber sees depends only on what the key holds (scopes decide which fields it may read), so
 * sharing changes nothing they receive. Events replayed for one subscriber are its own objects and
 * run alone. Results are held only as long as the event object lives.
 */
export function sharedSubscriptions() {
  const keys = new WeakMap<object, string>()
  const executions = new WeakMap<object, Map<string, Promise<ExecutionResult>>>()

  const executeShared = (args: ExecutionArgs, key: string | undefined, event: unknown): Promise<ExecutionResult> => {
    const run = async () => execute({ ...args, rootValue: event })
    if (key === undefined || typeof event !== 'object' || event === null) return run()
    let byKey = executions.get(event)
    if (!byKey) executions.set(event, (byKey = new Map()))
    let result = byKey.get(key)
    if (!result) byKey.set(key, (result = run()))
    return result
  }

  return {
    /** Marks an operation's arguments (by their context, made per operation) as shareable under `key`. */
    share(args: ExecutionArgs, key: string): void {
      if (typeof args.contextValue === 'object' && args.contextValue !== null) keys.set(args.contextValue, key)
    },

    /** graphql-js's `subscribe`, with each event's execution shared among subscribers of one key. */
    async subscribe(args: ExecutionArgs): Promise<Results | ExecutionResult> {
      const source = await createSourceEventStream(args)
      if (!isAsyncIterable(source)) return source
      const key = typeof args.contextValue === 'object' && args.contextValue ? keys.get(args.contextValue) : undefined
      return mapped(source[Symbol.asyncIterator](), (event) => executeShared(args, key, event))
    },
  }
}

/** The key under which subscribers share executions: same operation, same variables, same scopes. */
export function shareKey(
  query: string,
  operationName: string | null | undefined,
  variables: unknown,
  scopes: Iterable<string>,
): string {
  return JSON.stringify([query, operationName ?? null, variables ?? null, [...scopes].sort()])
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value

const asValue = (value: ExecutionResult): IteratorResult<ExecutionResult> => ({ done: false, value })

/** The source's events mapped to results; return() ends the source at once even while next() waits. */
function mapped(source: AsyncIterator<unknown>, map: (event: unknown) => Promise<ExecutionResult>): Results {
  // Not an async generator: its return() would wait for a pending next(), so an idle subscription could not be ended.
  return {
    [Symbol.asyncIterator]() {
      return this
    },
    next() {
      return source
        .next()
        .then((next) => (next.done ? { done: true as const, value: undefined } : map(next.value).then(asValue)))
    },
    async return() {
      await source.return?.()
      return { done: true, value: undefined }
    },
    async throw(error: unknown) {
      await source.return?.()
      throw error
    },
  }
}
