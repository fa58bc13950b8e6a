import type { LifecycleEvent } from '../generated/prisma/client'
import { newId } from '../store/ids'
import type { Sql } from '../store/unit-connection'

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

export type StoredEvent = LifecycleEvent

// Appends serialize on this transaction-scoped lock until commit, so sequences follow commit order.
const EVENT_APPEND_LOCK = 4_711_000_001

/** Rows every writer contends on, written in the tail statement so their locks are held as briefly as the append lock. */
export interface HotWrites {
  /** Groups whose membership changed (Everyone changes with every new user). */
  membershipChangedGroupIds: string[]
  at: Date
}

// One statement: touch the hot rows, take the append lock, insert the events (numbered by the
// lock-holder only: every row is produced after the lock subquery has returned), return them.
const APPEND_TAIL = `
  WITH touched AS (
    UPDATE "Group" SET "lastMembershipUpdated" = $2 WHERE id = ANY($3::text[])
  ), serialized AS (
    SELECT pg_advisory_xact_lock(${EVENT_APPEND_LOCK})
  )
  INSERT INTO "LifecycleEvent" ("id", "type", "actorId", "actorType", "actorDisplayName", "targetId", "targetType",
                                "targetDisplayName", "targets", "outcomeResult", "outcomeReason", "data")
  SELECT e.doc->>'id', e.doc->>'type', e.doc->>'actorId', e.doc->>'actorType', e.doc->>'actorDisplayName', e.doc->>'targetId',
         e.doc->>'targetType', e.doc->>'targetDisplayName', e.doc->'targets', e.doc->>'outcomeResult', e.doc->>'outcomeReason', e.doc->'data'
    FROM serialized, jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(doc, position)
   ORDER BY e.position
  RETURNING *`

/**
 * Appends events as the last statement of a transaction, together with the hot-row writes, and
 * commits. The advisory lock is taken in that statement and held to commit, so a reader that has
 * seen sequence N never later finds a smaller committed one (architecture.md: event order is
 * commit order); COMMIT follows the statement at once, so the lock is held only briefly.
 */
export async function appendEvents(sql: Sql, drafts: EventDraft[], hot?: HotWrites): Promise<StoredEvent[]> {
  const groupIds = hot?.membershipChangedGroupIds ?? []
  if (drafts.length === 0 && groupIds.length === 0) return []
  const rows = drafts.map((draft) => {
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
      targets: draft.targets,
      outcomeResult: draft.outcome?.result ?? 'SUCCESS',
      outcomeReason: draft.outcome?.reason ?? null,
      data: draft.data,
    }
  })
  const stored = await sql.queryAndCommit<StoredEvent>(APPEND_TAIL, [JSON.stringify(rows), hot?.at ?? new Date(), groupIds])
  return stored.sort((a, b) => (a.sequence < b.sequence ? -1 : 1))
}
