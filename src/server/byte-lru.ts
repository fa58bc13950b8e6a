/**
 * A Map used as an LRU bounded by the total size of its entries, not their number: one large
 * entry weighs as much as many small ones, so what anyone can make it keep is capped in bytes.
 */
export class ByteBoundedLru<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>()
  private total = 0

  constructor(private readonly maxBytes: number) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    this.entries.delete(key)
    this.entries.set(key, entry)
    return entry.value
  }

  /** Keeps the value, dropping the least recently used until the total fits; one over the bound is not kept. */
  set(key: string, value: V, bytes: number) {
    this.delete(key)
    if (bytes > this.maxBytes) return
    this.entries.set(key, { value, bytes })
    this.total += bytes
    for (const [oldest] of this.entries) {
      if (this.total <= this.maxBytes) break
      this.delete(oldest)
    }
  }

  /** The sum of the sizes of the entries kept. */
  get bytes() {
    return this.total
  }

  get size() {
    return this.entries.size
  }

  *values(): IterableIterator<V> {
    for (const entry of this.entries.values()) yield entry.value
  }

  private delete(key: string) {
    const entry = this.entries.get(key)
    if (entry === undefined) return
    this.entries.delete(key)
    this.total -= entry.bytes
  }
}

/** Bytes a string occupies in memory (V8 strings are at most two bytes a character). */
export const stringBytes = (text: string) => 2 * text.length
