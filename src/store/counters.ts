import type { Logger } from '../logger'
import type { Prisma } from './database'

/**
 * Counts that do not grow with the directory. Triggers on the counted tables (migration
 * `counter_deltas`) append a delta row per (counter, parent, value) in the transaction of every
 * statement that changes them, so a count is as committed as the rows it counts and no writer,
 * however written, can leave it behind. Writers only insert: none waits on another's counter row.
 *
 * A count is the sum of its key's rows (an index range). When a read finds more than `foldAbove`
 * rows for a parent, it folds them in the background: one statement deletes the rows it sees and
 * inserts their sum. Deltas committed meanwhile are not seen, so not deleted, and still counted;
 * a concurrent fold only deletes rows the other has not already deleted. Either way every snapshot
 * sees either the rows or their sum, so counts stay exact while folds race writers and each other.
 */
export type CounterName = 'user.status' | 'appUser.status' | 'appUser.syncState' | 'group.members'

/** The parent of directory-wide counters (users per status). */
export const DIRECTORY = ''

/** Rows of one parent a read sums before it folds them; small enough that a sum stays an index peek. */
const FOLD_ABOVE = 64

const SUM = `SELECT parent, sum(delta)::bigint AS total, count(*)::bigint AS rows FROM "CounterDelta"
  WHERE counter = $1 AND parent = ANY($2::text[]) AND ($3::text[] IS NULL OR value = ANY($3::text[]))
  GROUP BY parent`

const TOTALS = `SELECT value, sum(delta)::bigint AS total FROM "CounterDelta" WHERE counter = $1 GROUP BY value`

const FOLD = `WITH folded AS (
    DELETE FROM "CounterDelta" WHERE counter = $1 AND parent = ANY($2::text[]) RETURNING parent, value, delta
  )
  INSERT INTO "CounterDelta" (counter, parent, value, delta)
  SELECT $1, parent, value, sum(delta) FROM folded GROUP BY parent, value HAVING sum(delta) <> 0`

/** Reads the counters, folding the keys reads find long. One per process (it tracks the folds in flight). */
export class Counters {
  private readonly folding = new Set<string>()
  private readonly foldsInFlight = new Set<Promise<void>>()

  constructor(
    private readonly prisma: Prisma,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly foldAbove = FOLD_ABOVE,
  ) {}

  /** The count of `counter` per parent, over the given values (every value when omitted); 0 for a parent without rows. */
  async sum(
    counter: CounterName,
    parents: readonly string[],
    values?: readonly string[],
  ): Promise<Map<string, number>> {
    const rows = await this.prisma.$queryRawUnsafe<{ parent: string; total: bigint; rows: bigint }[]>(
      SUM,
      counter,
      parents,
      values ?? null,
    )
    const long = rows.filter((row) => row.rows > this.foldAbove).map((row) => row.parent)
    if (long.length) this.foldInBackground(counter, long)
    const sums = new Map(parents.map((parent) => [parent, 0]))
    for (const row of rows) sums.set(row.parent, Number(row.total))
    return sums
  }

  /** The count of `counter` per value across every parent (e.g. app users per sync state, all apps). */
  async totals(counter: CounterName): Promise<Map<string, number>> {
    const rows = await this.prisma.$queryRawUnsafe<{ value: string; total: bigint }[]>(TOTALS, counter)
    return new Map(rows.map((row) => [row.value, Number(row.total)]))
  }

  /** Replaces the parents' delta rows by their sums (one row per value), in one statement. */
  async fold(counter: CounterName, parents: readonly string[]): Promise<void> {
    await this.prisma.$executeRawUnsafe(FOLD, counter, parents)
  }

  private foldInBackground(counter: CounterName, parents: string[]): void {
    const due = parents.filter((parent) => !this.folding.has(`${counter} ${parent}`))
    if (!due.length) return
    for (const parent of due) this.folding.add(`${counter} ${parent}`)
    const folding = this.fold(counter, due)
      .catch((error: unknown) => this.logger.warn({ err: error, counter }, 'folding counter deltas failed'))
      .finally(() => {
        for (const parent of due) this.folding.delete(`${counter} ${parent}`)
        this.foldsInFlight.delete(folding)
      })
    this.foldsInFlight.add(folding)
  }

  /** Resolves once the folds started so far have finished (a fold is not part of the read that started it). */
  async settled(): Promise<void> {
    await Promise.all(this.foldsInFlight)
  }
}
