/**
 * An operation's results pulled only as fast as the response writes them out, as graphql-ws does on
 * a WebSocket. graphql-sse pulls results as fast as they come and queues their messages, without
 * bound, until they are written; paced, a client that stops reading leaves the results to the
 * subscription's bounded buffer, which ends it with SUBSCRIBER_TOO_SLOW (api.md, Real-time).
 */
export function writePace() {
  let pulled = 0
  let written = 0
  let ended = false
  let wake = () => {}

  return {
    /** The results, each next one pulled once every earlier one was written out (or the results were ended). */
    pace<T>(results: AsyncIterator<T>): AsyncIterableIterator<T> {
      const end = async () => {
        ended = true
        wake()
        return (await results.return?.()) ?? { done: true as const, value: undefined }
      }
      // Not an async generator: its return() would wait for a pending next(), so a stalled client could not be ended.
      return {
        [Symbol.asyncIterator]() {
          return this
        },
        async next() {
          while (written < pulled && !ended) await new Promise<void>((resolve) => (wake = resolve))
          if (ended) return { done: true, value: undefined }
          const next = await results.next()
          if (!next.done) pulled++
          return next
        },
        return: end,
        async throw(error: unknown) {
          await end()
          throw error
        },
      }
    },

    /** A message of the stream was written out: a result's (the protocol's `next` event) lets the next result be pulled. */
    wrote(message: string): void {
      if (!message.startsWith('event: next')) return
      written++
      wake()
    },
  }
}

export type WritePace = ReturnType<typeof writePace>
