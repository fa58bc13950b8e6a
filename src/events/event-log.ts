import type { Prisma as PrismaTypes } from '../generated/prisma/client'
import { newId } from '../store/ids'
import type { Transaction } from '../store/transaction'

/** Who caused an event: an API token, or the system itself. */
export interface Actor {
  id: string | null
  type: 'ApiToken' | 'System'
  displayName: string | null
}

export const SYSTEM_ACTOR: Actor = { id: null, type: 'System', displayName: 'Lifecycle Gateway' }

export interface EventTarget {
  id: string
  type: string
  displayName: string | null
}

/** An event as a service describes it; the log adds id, sequence and publish time. */
export interface EventDraft {
  type: string
  actor: Actor
  targets: EventTarget[]
  outcome?: { result: 'SUCCESS' | 'FAILURE'; reason?: string }
  data?: Record<string, unknown>
}

export type StoredEvent = Awaited<ReturnType<typeof appendEvents>>[number]

// Appends serialize on this transaction-scoped lock until commit, so sequences follow commit order.
const EVENT_APPEND_LOCK = 4_711_000_001

/**
 * Appends events as the last step of a transaction. The advisory lock is taken right before
 * the insert and held to commit, so a reader that has seen sequence N never later finds a
 * smaller committed one (architecture.md: event order is commit order).
 */
export async function appendEvents(tx: Transaction, drafts: EventDraft[]) {
  if (drafts.length === 0) return []
  await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${EVENT_APPEND_LOCK})`)
  const rows: PrismaTypes.LifecycleEventCreateManyInput[] = drafts.map((draft) => {
    const [primary] = draft.targets
    return {
      id: newId('LifecycleEvent'),
      type: draft.type,
      actorId: draft.actor.id,
      actorType: draft.actor.type,
      actorDisplayName: draft.actor.displayName,
      targetId: primary?.id ?? null,
      targetType: primary?.type ?? null,
      targetDisplayName: primary?.displayName ?? null,
      targets: draft.targets as unknown as PrismaTypes.InputJsonValue,
      outcomeResult: draft.outcome?.result ?? 'SUCCESS',
      outcomeReason: draft.outcome?.reason ?? null,
      data: (draft.data ?? undefined) as PrismaTypes.InputJsonValue | undefined,
    }
  })
  const stored = await tx.lifecycleEvent.createManyAndReturn({ data: rows })
  return stored.sort((a, b) => (a.sequence < b.sequence ? -1 : 1))
}
