import type { Sql } from './unit-connection'

/**
 * THE lock order. A transaction that takes several of these locks takes them in this order, and
 * never waits for an earlier one while holding a later one (architecture.md: one lock order):
 *
 *  1. The grants gate (a transaction-scoped advisory lock). Shared by every use case that changes
 *     or reconciles one user's grants (it comes with the user-row lock, `userRows.lock`, and with
 *     the insert of a new user, `userRows.insert`);
 *     exclusive for the few that change grants of many users at once (assigning a group to an
 *     app, activating an app, deleting a group, activating or deleting a group rule), taken as
 *     their first statement (and updating a group, see 6). Per-user changes then run side by side,
 *     and an app-wide change never reads grants that a per-user change is still writing (or the reverse).
 *  2. User rows, ascending id (`SELECT … FOR NO KEY UPDATE`), before the use case reads what it
 *     decides on: the user's status, profile, memberships and grants. An app user (app, user) is
 *     only written under its user's lock or the exclusive gate, so "a user with a grant has a live
 *     app user" cannot be broken by two transactions that each read the old grants.
 *  3. Group-rule rows (status compare-and-set, exclusions).
 *  4. App rows (status compare-and-set, profile).
 *  4b. The deprovisioning guard of an app (a transaction-scoped advisory lock per app, ascending
 *     key), taken by the outbox when it queues guarded deactivations and held to commit, so two
 *     transactions cannot both count the app's window under its threshold. Nothing but the event
 *     append (5, 6) is taken after it.
 *  5. The event-append advisory lock, taken in the final statement and held to commit
 *     (events/event-log.ts), and in that statement after it…
 *  6. …group rows, whose `lastMembershipUpdated` every membership change (every new user:
 *     Everyone) writes there, so a group row is held for about a round trip.
 *     A use case that writes a group row before its final statement (updating or deleting a group)
 *     takes the grants gate exclusively first: every writer of memberships holds the gate, so none
 *     can hold the append lock and wait for that group row meanwhile.
 *
 * Row locks are FOR NO KEY UPDATE, which does not conflict with the key-share locks that inserts
 * referencing the row take (a membership or a grant does not wait for its user's lock holder).
 */

const GRANTS_GATE = 4_711_000_002

/** A condition that takes the shared grants gate once, before the statement locks any row. */
export const SHARED_GRANTS_GATE = `(SELECT pg_advisory_xact_lock_shared(${GRANTS_GATE})::text) IS NOT NULL`

/** Takes the grants gate exclusively: the first statement of a use case that changes grants app-wide. */
export async function lockGrantsExclusively(sql: Sql): Promise<void> {
  await sql.query(`SELECT pg_advisory_xact_lock(${GRANTS_GATE})`)
}

const DEPROVISIONING_GUARD = 4_711_003

/** Takes the deprovisioning guard of each app (step 4b), in key order so two callers never wait on each other in a cycle. */
export async function lockDeprovisioningGuards(sql: Sql, appIds: string[]): Promise<void> {
  if (appIds.length === 0) return
  await sql.query(
    `SELECT pg_advisory_xact_lock(${DEPROVISIONING_GUARD}, key)
       FROM (SELECT DISTINCT hashtext(id) AS key FROM unnest($1::text[]) AS id ORDER BY key) AS keys`,
    [appIds],
  )
}
