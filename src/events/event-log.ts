import type { LifecycleEvent } from '../generated/prisma/client'
import { newId } from '../store/ids'
import type { Sql } from '../store/unit-connection'
import type { EventType } from './event-catalogue'

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
  type: EventType
  actor: Actor
  targets: EventTarget[]
  outcome?: { result: 'SUCCESS' | 'FAILURE'; reason?: string }
  data?: Record<string, unknown>
}

export type StoredEvent = LifecycleEvent

// Appends serialize on this transaction-scoped lock until commit, so sequences follow commit order.
const EVENT_APPEND_LOCK = 4_711_000_001

/**
 * Told once per committing transaction that appended events (one NOTIFY, however many events: each
 * notification is queued at commit under a global lock), with the payload its last sequence.
 */
export const EVENTS_COMMITTED_CHANNEL = 'lifecycle_events_committed'

/** Rows every writer contends on, written in the tail statement so their locks are held as briefly as the append lock. */
export interface HotWrites {
  /** Groups whose membership changed (Everyone changes with every new user). */
  membershipChangedGroupIds: string[]
  at: Date
}

const EVENT_COLUMNS = [
  'id',
  'type',
  'actorId',
  'actorType',
  'actorDisplayName',
  'targetId',
  'targetType',
  'targetDisplayName',
  'targets',
  'outcomeResult',
  'outcomeReason',
  'data',
] as const
const JSON_COLUMNS: ReadonlySet<string> = new Set(['targets', 'data'])
const TOUCH_GROUPS = `UPDATE "Group" SET "lastMembershipUpdated" = $1 WHERE id = ANY($2::text[])`

/**
 * One statement: take the append lock, insert the events in the drafts' order (one array per
 * column, however many events), touch the hot rows (when there are any: $1, $2), notify the relays
 * once with the last sequence, return what the database assigned. Every row is produced after the lock subquery has returned, so only the lock
 * holder takes sequence numbers. The touch is an unreferenced data-modifying WITH, which PostgreSQL
 * runs after the main statement: group rows are locked after the append lock (store/locks.ts), so a
 * group row is held only from here to commit.
 */
function appendStatement(touchesGroups: boolean): string {
  const first = touchesGroups ? 3 : 1
  const columns = EVENT_COLUMNS.map((column) => `"${column}"`).join(', ')
  const arrays = EVENT_COLUMNS.map(
    (column, index) => `$${first + index}::${JSON_COLUMNS.has(column) ? 'jsonb' : 'text'}[]`,
  )
  return `WITH ${touchesGroups ? `touched AS (${TOUCH_GROUPS}), ` : ''}serialized AS (SELECT pg_advisory_xact_lock(${EVENT_APPEND_LOCK})),
    appended AS (
      INSERT INTO "LifecycleEvent" (${columns})
      SELECT ${EVENT_COLUMNS.map((column) => `e."${column}"`).join(', ')}
        FROM serialized, unnest(${arrays.join(', ')}) WITH ORDINALITY AS e(${columns}, position)
       ORDER BY e.position
      RETURNING id, sequence, published)
    SELECT appended.* FROM appended, (SELECT pg_notify('${EVENTS_COMMITTED_CHANNEL}', max(sequence)::text) FROM appended) notified`
}
const APPEND = appendStatement(false)
const APPEND_AND_TOUCH = appendStatement(true)

/**
 * Appends events as the last statement of a transaction, together with the hot-row writes, and
 * commits. The advisory lock is taken in that statement and held to commit, so a reader that has
 * seen sequence N never later finds a smaller committed one (architecture.md: event order is
 * commit order); COMMIT follows the statement at once, so the lock is held only briefly.
 */
export async function appendEvents(sql: Sql, drafts: EventDraft[], hot?: HotWrites): Promise<StoredEvent[]> {
  const groupIds = hot?.membershipChangedGroupIds ?? []
  const touch = groupIds.length ? [hot?.at ?? new Date(), groupIds] : []
  if (drafts.length === 0) {
    if (groupIds.length) await sql.queryAndCommit(TOUCH_GROUPS, touch)
    return []
  }
  const events = drafts.map((draft) => {
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
      targets: draft.targets as unknown as LifecycleEvent['targets'],
      outcomeResult: draft.outcome?.result ?? 'SUCCESS',
      outcomeReason: draft.outcome?.reason ?? null,
      data: (draft.data ?? null) as LifecycleEvent['data'],
    }
  })
  const columns = EVENT_COLUMNS.map((column) =>
    events.map((event) =>
      JSON_COLUMNS.has(column) && event[column] !== null ? JSON.stringify(event[column]) : event[column],
    ),
  )
  const assigned = await sql.queryAndCommit<Pick<LifecycleEvent, 'id' | 'sequence' | 'published'>>(
    groupIds.length ? APPEND_AND_TOUCH : APPEND,
    [...touch, ...columns],
  )
  const byId = new Map(assigned.map((row) => [row.id, row]))
  return events
    .map((event) => ({ ...event, sequence: byId.get(event.id)!.sequence, published: byId.get(event.id)!.published }))
    .sort((a, b) => (a.sequence < b.sequence ? -1 : 1))
}
