import { GraphQLError } from 'graphql'
import type { Prisma } from '../store/database'
import type { StoredEvent } from './event-log'
import { decodeEventCursor, eventCursor, issuedEventSequences } from './event-queries'
import type { EventRelay } from './relay'
import { SubscriberBuffer } from './subscriber-buffer'
import { eventOf, TOPIC_PAYLOADS, type PubSub, type TopicName, type TopicPayload } from './topics'

/** Log rows read per query while replaying. */
const REPLAY_PAGE_SIZE = 200

/** The end of a stream whose subscriber fell `SUBSCRIPTION_BUFFER` events behind; resume from `resumeFrom`. */
export class SubscriberTooSlow {
  constructor(readonly resumeFrom: string) {}

  toError(): GraphQLError {
    return new GraphQLError('The subscriber fell too far behind; resume from extensions.resumeFrom.', {
      extensions: { code: 'SUBSCRIBER_TOO_SLOW', resumeFrom: this.resumeFrom },
    })
  }
}

export type StreamItem<K extends TopicName> = TopicPayload<K> | SubscriberTooSlow

export interface StreamRequest<K extends TopicName> {
  topic: K
  /** Server-side filter: only matching payloads are buffered and sent. */
  matches(payload: TopicPayload<K>): boolean
  /** Resume cursor (`filter.after`): first every stored event after it, then live ones. */
  after?: string | null
}

/**
 * Subscriptions as streams of one topic's payloads. Live delivery comes from this process's relay
 * (every process's commits, in commit order); a resumed stream subscribes to it first, buffers,
 * replays the log after the cursor page by page up to its end, then drops buffered events it
 * replayed: commit order = sequence order, so there is no gap and no duplicate. App-user changes
 * without an event (a job marked SYNCING) have no cursor: they are live-only and never replayed.
 */
export class EventStreams {
  constructor(private readonly deps: { prisma: Prisma; pubSub: PubSub; relay: EventRelay; bufferSize: number }) {}

  /** Throws BAD_USER_INPUT for a cursor the log did not issue. */
  async open<K extends TopicName>(request: StreamRequest<K>): Promise<AsyncIterableIterator<StreamItem<K>>> {
    let after: bigint | undefined
    if (request.after) {
      after = decodeEventCursor(request.after)
      if (after === undefined || !(await issuedEventSequences(this.deps.prisma, [after])).has(after))
        throw new GraphQLError('The cursor is not one this log issued.', {
          extensions: { code: 'BAD_USER_INPUT', field: ['filter', 'after'] },
        })
    }
    return stream(request, after, this.deps)
  }
}

function stream<K extends TopicName>(
  { topic, matches }: StreamRequest<K>,
  after: bigint | undefined,
  deps: { prisma: Prisma; pubSub: PubSub; relay: EventRelay; bufferSize: number },
): AsyncIterableIterator<StreamItem<K>> {
  const derive = TOPIC_PAYLOADS[topic]
  const buffer = new SubscriberBuffer<TopicPayload<K>>(deps.bufferSize)
  /** The last sequence replayed or sent: buffered events up to it are not sent (again). */
  let readUpTo = after ?? deps.relay.position
  /** The sequence of the last event sent: where the subscriber resumes without a gap. */
  let lastSent = readUpTo
  let replaying = after !== undefined
  /** Live events were dropped (the buffer filled): the log is read again before going live. */
  let missedLive = false
  let replayed: TopicPayload<K>[] = []
  let ending: SubscriberTooSlow | undefined
  let finished = false
  /** Reads by the subscriber, so far and when the buffer last filled. */
  let reads = 0
  let readsWhenFull = -1
  /**
   * The turn in which the buffer last filled is over. One commit is published in one synchronous
   * run, so a subscriber cannot read during it: filling again counts only once it had its turn.
   */
  let hadTurnSinceFull = false

  const finish = () => {
    finished = true
    stopListening()
    buffer.close()
  }
  // Listening before the first replay read: anything committed later is buffered, not lost.
  // A full buffer is dropped (memory stays bounded) and its events read again from the log: a burst
  // larger than the buffer (one big transaction) costs a reader that keeps reading nothing. A
  // subscriber that read nothing since the buffer last filled, though it had its turn to, is not
  // reading: it is ended, and resumes from the last event it was sent.
  const stopListening = deps.pubSub.listen(topic, (payload) => {
    if (!matches(payload) || buffer.offer(payload)) return
    buffer.clear()
    if (reads === readsWhenFull) {
      if (!hadTurnSinceFull) return
      ending = new SubscriberTooSlow(eventCursor({ sequence: lastSent }))
      finish()
      return
    }
    readsWhenFull = reads
    hadTurnSinceFull = false
    setImmediate(() => (hadTurnSinceFull = true))
    replaying = true
    missedLive = true
  })

  const send = (payload: TopicPayload<K>): IteratorResult<StreamItem<K>> => {
    const sequence = eventOf(topic, payload)?.sequence
    if (sequence !== undefined) lastSent = sequence
    return { done: false, value: payload }
  }

  const readLog = (sequence: bigint): Promise<StoredEvent[]> =>
    deps.prisma.lifecycleEvent.findMany({
      where: { sequence: { gt: sequence } },
      orderBy: { sequence: 'asc' },
      take: REPLAY_PAGE_SIZE,
    })

  // Not an async generator: its return() would wait for a pending next(), so an idle stream could not be ended.
  return {
    [Symbol.asyncIterator]() {
      return this
    },
    async next(): Promise<IteratorResult<StreamItem<K>>> {
      reads++
      while (!finished) {
        if (replayed.length > 0) return send(replayed.shift()!)
        if (replaying) {
          const rows = await readLog(readUpTo)
          if (finished) break
          if (rows.length > 0) readUpTo = rows.at(-1)!.sequence
          replayed = rows.map(derive).filter((payload): payload is TopicPayload<K> => !!payload && matches(payload))
          if (rows.length < REPLAY_PAGE_SIZE) {
            // At the end of the log: live from here, unless live events were dropped meanwhile.
            replaying = missedLive
            missedLive = false
          }
          continue
        }
        const payload = await buffer.take()
        if (payload === undefined) break
        const sequence = eventOf(topic, payload)?.sequence
        if (sequence !== undefined && sequence <= readUpTo) continue
        if (sequence !== undefined) readUpTo = sequence
        return send(payload)
      }
      if (ending) {
        const value = ending
        ending = undefined
        return { done: false, value }
      }
      return { done: true, value: undefined }
    },
    async return() {
      ending = undefined
      finish()
      return { done: true, value: undefined }
    },
    async throw(error: unknown) {
      finish()
      throw error
    },
  }
}

/** A subscription resolver's result: the payload, or the SUBSCRIBER_TOO_SLOW error that ends the stream. */
export function delivered<K extends TopicName>(item: StreamItem<K>): TopicPayload<K> {
  if (item instanceof SubscriberTooSlow) throw item.toError()
  return item
}
