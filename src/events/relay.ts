import type { Logger } from '../logger'
import type { Database } from '../store/database'
import { EVENTS_COMMITTED_CHANNEL, type StoredEvent } from './event-log'
import { publishCommitted, type PubSub } from './topics'

/** Log rows read per query while catching up. */
const PAGE_SIZE = 500

/**
 * The single publisher of committed events in a process: it publishes each event of the log once,
 * in sequence (commit) order, to this process's topics. Its own commits are handed to it directly
 * (no query when they follow the last one published); commits of other processes it learns of by
 * PostgreSQL NOTIFY (payload: the sequence) and, if notifications stop, by polling the log. Whatever
 * it missed it reads from the log after the last sequence it published.
 */
export class EventRelay {
  /** The last sequence published; undefined until started (nothing to deliver to before). */
  private head: bigint | undefined
  private started: Promise<void> | undefined
  private reading: Promise<void> | undefined
  private readAgain = false
  private stopListening = async () => {}
  private poll: NodeJS.Timeout | undefined

  constructor(private readonly deps: { db: Database; pubSub: PubSub; pollMs: number; logger: Logger }) {}

  /** The sequence of the last event published: a live subscriber receives every later one. */
  get position(): bigint {
    return this.head ?? 0n
  }

  /** Starts delivering from the current end of the log (idempotent). */
  start(): Promise<void> {
    this.started ??= (async () => {
      const last = await this.deps.db.prisma.lifecycleEvent.findFirst({
        orderBy: { sequence: 'desc' },
        select: { sequence: true },
      })
      this.head ??= last?.sequence ?? 0n
      // The embedded database has one process: its commits all reach committed().
      if (this.deps.db.kind === 'postgres') {
        this.stopListening = await this.deps.db.listen(EVENTS_COMMITTED_CHANNEL, (payload) => {
          if (payload === undefined || !/^\d+$/.test(payload) || BigInt(payload) > this.position) void this.catchUp()
        })
      }
      this.poll = setInterval(() => void this.catchUp(), this.deps.pollMs)
      this.poll.unref()
    })()
    return this.started
  }

  /** Stops listening and polling (idempotent); a started relay must be stopped before its database closes. */
  async stop(): Promise<void> {
    await this.started?.catch(() => {})
    clearInterval(this.poll)
    const stopListening = this.stopListening
    this.stopListening = async () => {}
    await stopListening()
    await this.reading
  }

  /** Events this process committed, after commit: published at once when they are next in the log. */
  committed(events: StoredEvent[]): void {
    if (this.head === undefined || events.length === 0) return
    if (!this.reading && events[0].sequence === this.head + 1n) this.publish(events)
    else void this.catchUp()
  }

  /** Publishes every event committed after the last one published; concurrent calls share one reader. */
  catchUp(): Promise<void> {
    if (this.head === undefined) return Promise.resolve()
    if (this.reading) {
      this.readAgain = true
      return this.reading
    }
    this.reading = this.readLog().finally(() => (this.reading = undefined))
    return this.reading
  }

  private async readLog(): Promise<void> {
    try {
      do {
        this.readAgain = false
        let page: StoredEvent[]
        do {
          page = await this.deps.db.prisma.lifecycleEvent.findMany({
            where: { sequence: { gt: this.position } },
            orderBy: { sequence: 'asc' },
            take: PAGE_SIZE,
          })
          this.publish(page)
        } while (page.length === PAGE_SIZE)
      } while (this.readAgain)
    } catch (error) {
      // The next notification or poll reads again from the same sequence.
      this.deps.logger.warn({ err: error }, 'reading the event log failed')
    }
  }

  /** Publishes the events after the last one published, in order; earlier ones were published already. */
  private publish(events: StoredEvent[]): void {
    const fresh = events.filter((event) => event.sequence > this.position)
    if (fresh.length === 0) return
    this.head = fresh.at(-1)!.sequence
    publishCommitted(this.deps.pubSub, fresh)
  }
}
