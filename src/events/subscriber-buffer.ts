/**
 * A bounded first-in first-out queue between a publisher that must never wait and one reader that
 * may be slow: it holds at most `capacity` items and refuses more, so a reader that stopped reading
 * costs a bounded amount of memory.
 */
export class SubscriberBuffer<T> {
  private items: T[] = []
  private waiting: ((item: T | undefined) => void) | undefined
  private closed = false

  constructor(private readonly capacity: number) {}

  /** Hands the item to a waiting reader or queues it; false (and nothing queued) when full. */
  offer(item: T): boolean {
    if (this.closed) return true
    if (this.waiting) {
      const deliver = this.waiting
      this.waiting = undefined
      deliver(item)
      return true
    }
    if (this.items.length >= this.capacity) return false
    this.items.push(item)
    return true
  }

  /** The oldest item, once there is one; undefined once closed. */
  take(): Promise<T | undefined> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift())
    if (this.closed) return Promise.resolve(undefined)
    return new Promise((resolve) => (this.waiting = resolve))
  }

  /** Forgets what is queued (a reader that reads it elsewhere, e.g. from the log). */
  clear(): void {
    this.items = []
  }

  /** Forgets what is queued and refuses nothing more: a waiting reader gets undefined. */
  close(): void {
    this.closed = true
    this.items = []
    this.waiting?.(undefined)
    this.waiting = undefined
  }
}
