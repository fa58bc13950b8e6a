import { appendEvents, SYSTEM_ACTOR } from '../../src/events/event-log'
import type { Database } from '../../src/store/database'

// Events large enough that a client that stops reading fills the socket buffers (megabytes on
// loopback) within a few of them, and then what the server holds for it.
const COPIES = 40

/** lifecycleEvents selecting each event's targets 40 times: about 2 MB per event appended below. */
export const BULKY_SUBSCRIPTION = `subscription($filter: LifecycleEventsFilter) { lifecycleEvents(filter: $filter) {
  sequence cursor ${Array.from({ length: COPIES }, (_, copy) => `t${copy}: targets { displayName }`).join(' ')}
} }`

/** Appends one event of 10 targets × 5000 characters (targets `<label>-<target>`): sent as BULKY_SUBSCRIPTION, about 2 MB. */
export async function appendBulkyEvent(db: Pick<Database, 'transaction'>, label: string): Promise<void> {
  await db.transaction((sql) =>
    appendEvents(sql, [
      {
        type: 'user.lifecycle.activate',
        actor: SYSTEM_ACTOR,
        targets: Array.from({ length: 10 }, (_, target) => ({
          id: `${label}-${target}`,
          type: 'User',
          displayName: 'x'.repeat(5000),
        })),
      },
    ]),
  )
}
