import { domainError, fail, type DomainError, type Result } from '../errors'
import type { Database, Prisma } from './database'
import type { Fact } from '../cascades/facts'
import type { Sql } from './unit-connection'
import { appendEvents, type EventDraft, type HotWrites, type StoredEvent } from '../events/event-log'

type BatchedReads = 'findUnique' | 'findUniqueOrThrow'
type ModelName = Exclude<keyof Prisma, `$${string}` | symbol>

/**
 * Prisma as a unit of work may use it: every model but findUnique, which Prisma batches with
 * other callers' in the same tick and could run off the unit's connection (use findFirst).
 */
export type Transaction = { [Model in ModelName]: Omit<Prisma[Model], BatchedReads> } & Pick<
  Prisma,
  '$queryRaw' | '$queryRawUnsafe' | '$executeRaw' | '$executeRawUnsafe'
>

/** Turns recorded facts into the writes that follow them (src/cascades/follow.ts, wired by src/app.ts). */
export type FollowFacts = (unit: UnitOfWork, facts: Fact[]) => Promise<void>

/** What units of work run on: Prisma, transactions that Prisma calls join, and what follows a fact. */
export type Store = Pick<Database, 'prisma' | 'transaction'> & { followFacts: FollowFacts }

/** Thrown inside a unit of work to roll it back and report business errors instead. */
class Rollback extends Error {
  constructor(readonly errors: DomainError[]) {
    super('rolled back: ' + errors.map((error) => error.code).join(', '))
  }
}

/** What a use case does inside its transaction: writes, plus the events it records. */
export interface UnitOfWork {
  tx: Transaction
  /** Hand-written SQL in the same transaction. */
  sql: Sql
  record(...events: EventDraft[]): void
  /** Records what changed; the cascades turn it into the writes that follow, before the events are appended. */
  fact(fact: Fact): void
  /** Runs the cascades of the facts recorded so far, for a use case that reads what they write. */
  settle(): Promise<void>
  /** Notes groups whose membership changed; their lastMembershipUpdated is written with the events. */
  membershipChanged(groupIds: string[], at: Date): void
  /** Abandons the transaction; nothing it wrote is kept. */
  abort(...errors: DomainError[]): never
}

export interface Committed<T> {
  value: T
  events: StoredEvent[]
}

/**
 * Runs one use case in one transaction: its writes, then its events and hot-row writes (one
 * statement, appended last, in commit order), commit. Business failures abort the whole
 * transaction and come back as errors.
 */
export async function inTransaction<T>(
  store: Store,
  work: (unit: UnitOfWork) => Promise<T>,
): Promise<Result<Committed<T>>> {
  try {
    const committed = await store.transaction(async (sql) => {
      const drafts: EventDraft[] = []
      let facts: Fact[] = []
      const hot: HotWrites = { membershipChangedGroupIds: [], at: new Date() }
      const unit: UnitOfWork = {
        tx: store.prisma,
        sql,
        record: (...events) => void drafts.push(...events),
        fact: (fact) => void facts.push(fact),
        async settle() {
          // Facts recorded while following are followed too (a cascade may record more).
          while (facts.length) {
            const pending = facts
            facts = []
            await store.followFacts(unit, pending)
          }
        },
        membershipChanged: (groupIds, at) => {
          hot.membershipChangedGroupIds = [...new Set([...hot.membershipChangedGroupIds, ...groupIds])]
          hot.at = at
        },
        abort: (...errors) => {
          throw new Rollback(errors)
        },
      }
      const value = await work(unit)
      await unit.settle()
      const events = await appendEvents(sql, drafts, hot)
      return { value, events }
    })
    return { ok: true, value: committed }
  } catch (error) {
    if (error instanceof Rollback) return { ok: false, errors: error.errors }
    throw error
  }
}

const CONCURRENT_DUPLICATE = domainError(
  'CONFLICT',
  'A concurrent request created the same thing first; it already exists.',
)

/**
 * Runs a use case in one transaction and publishes its events after commit. Where a unique index
 * decides between concurrent requests (two creates of one name, two grants of one pair: each
 * checked for a duplicate before the other committed), the loser gets CONFLICT (`duplicate`), not
 * INTERNAL.
 */
export async function runUseCase<T>(
  store: Store,
  publish: (events: StoredEvent[]) => void,
  work: (unit: UnitOfWork) => Promise<T>,
  duplicate: DomainError = CONCURRENT_DUPLICATE,
): Promise<Result<T>> {
  let committed: Result<Committed<T>>
  try {
    committed = await inTransaction(store, work)
  } catch (error) {
    if (isUniqueViolation(error)) return fail(duplicate)
    throw error
  }
  if (!committed.ok) return committed
  publish(committed.value.events)
  return { ok: true, value: committed.value.value }
}

// P2002 through Prisma, 23505 (PostgreSQL's unique_violation) through the driver.
function isUniqueViolation(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
  return code === 'P2002' || code === '23505'
}
