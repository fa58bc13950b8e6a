import type { DomainError, Result } from '../errors'
import type { Prisma } from './database'
import { appendEvents, type EventDraft, type HotWrites, type StoredEvent } from '../events/event-log'

/** The Prisma client as seen inside an interactive transaction. */
export type Transaction = Parameters<Parameters<Prisma['$transaction']>[0]>[0]

/** Thrown inside a unit of work to roll it back and report business errors instead. */
class Rollback extends Error {
  constructor(readonly errors: DomainError[]) {
    super('rolled back: ' + errors.map((error) => error.code).join(', '))
  }
}

/** What a use case does inside its transaction: writes, plus the events it records. */
export interface UnitOfWork {
  tx: Transaction
  record(...events: EventDraft[]): void
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
  prisma: Prisma,
  work: (unit: UnitOfWork) => Promise<T>,
): Promise<Result<Committed<T>>> {
  try {
    const committed = await prisma.$transaction(async (tx) => {
      const drafts: EventDraft[] = []
      const hot: HotWrites = { membershipChangedGroupIds: [], at: new Date() }
      const unit: UnitOfWork = {
        tx,
        record: (...events) => void drafts.push(...events),
        membershipChanged: (groupIds, at) => {
          hot.membershipChangedGroupIds = [...new Set([...hot.membershipChangedGroupIds, ...groupIds])]
          hot.at = at
        },
        abort: (...errors) => {
          throw new Rollback(errors)
        },
      }
      const value = await work(unit)
      const events = await appendEvents(tx, drafts, hot)
      return { value, events }
    })
    return { ok: true, value: committed }
  } catch (error) {
    if (error instanceof Rollback) return { ok: false, errors: error.errors }
    throw error
  }
}

/** Runs a use case in one transaction and publishes its events after commit. */
export async function runUseCase<T>(
  prisma: Prisma,
  publish: (events: StoredEvent[]) => void,
  work: (unit: UnitOfWork) => Promise<T>,
): Promise<Result<T>> {
  const committed = await inTransaction(prisma, work)
  if (!committed.ok) return committed
  publish(committed.value.events)
  return { ok: true, value: committed.value.value }
}
