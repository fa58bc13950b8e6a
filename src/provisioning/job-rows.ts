import type { ProvisioningJob } from '../generated/prisma/client'
import type { Sql } from '../store/unit-connection'

/**
 * Claiming and settling provisioning jobs, hand-written: `FOR UPDATE SKIP LOCKED` and the
 * per-app-user order cannot be said through Prisma.
 *
 * Time is always the caller's `now`, never the database's now(): the outbox writes `runAfter`
 * with the application's clock, so due-ness is compared on that same clock, and a test can move
 * time past a lease without sleeping. Processes sharing one queue must keep their clocks in step
 * (NTP) well within a lease.
 *
 * A job is unfinished while QUEUED, RUNNING or HELD (by the deprovisioning guard: never claimed,
 * but it keeps its app user's later jobs waiting until released or discarded). A RUNNING job is leased to the worker in
 * `leasedBy` until `leaseExpiresAt`; after that another worker may take it over, and only then
 * does the first lose it (a late but unchallenged worker may still settle or extend it, which
 * saves running it again). Settling a job (complete, reschedule, fail) acts only while the
 * caller still holds it: a worker whose lease was taken over must not overwrite the new
 * holder's work.
 */

export interface ClaimOptions {
  workerId: string
  limit: number
  leaseSeconds: number
  now: Date
  /**
   * How many more requests each app may have in flight in this worker; an app missing here may
   * take `perApp`. An app with no room is not even scanned, so a saturated (slow) app never fills
   * a claim that other apps' jobs could use.
   */
  roomPerApp?: ReadonlyMap<string, number>
  perApp?: number
}

const UNFINISHED = `('QUEUED', 'RUNNING', 'HELD')`

/** No earlier job of the same app user (alias j) is unfinished: a job never overtakes the one it follows. */
const FIRST_OF_ITS_APP_USER = `NOT EXISTS (
    SELECT 1 FROM "ProvisioningJob" earlier
    WHERE earlier."appUserId" = j."appUserId" AND earlier.id < j.id AND earlier.state IN ${UNFINISHED})`

/** An app (alias a) whose jobs wait: paused by an administrator or held by a 429 until after $1. */
const APP_ON_HOLD = `(a."provisioningPaused" OR a."provisioningRateLimitedUntil" > $1)`

export const jobRows = {
  /**
   * Leases up to `limit` due jobs to the worker and marks them RUNNING, in one statement. Only
   * the oldest unfinished job of an app user is claimable, so a job never overtakes the one it
   * follows (ids grow in commit order per app user: the outbox writes a job while holding its
   * app user's row). Apps paused by an administrator or held by a 429 are skipped.
   *
   * Fair per app: the apps with queued jobs are found by a skip scan of the (state, appId, ...)
   * index, one probe per app, and each app's queue is walked in order up to that app's room, so a
   * deep backlog of one app never fills a claim that another app's jobs could use. The oldest
   * candidates across apps are taken. Jobs whose lease expired are one more scan, in order.
   * The lease conditions sit on the locked rows themselves so that PostgreSQL re-checks them
   * against a version another claimer committed meanwhile. A claim costs the same however deep
   * the queue is. The jobs come back oldest first, the order the worker starts them in (an
   * UPDATE's own RETURNING follows the table's physical order, which retries reshuffle).
   */
  async claim(sql: Sql, options: ClaimOptions): Promise<ProvisioningJob[]> {
    const { workerId, limit, leaseSeconds, now, roomPerApp = new Map(), perApp = limit } = options
    const full = [...roomPerApp].filter(([, room]) => room <= 0).map(([appId]) => appId)
    const room = [...roomPerApp].filter(([, free]) => free > 0)
    return sql.query<ProvisioningJob>(
      `WITH RECURSIVE queued_apps AS (
         (SELECT j."appId" FROM "ProvisioningJob" j WHERE j.state = 'QUEUED' ORDER BY j."appId" LIMIT 1)
         UNION ALL
         SELECT (SELECT j."appId" FROM "ProvisioningJob" j
                 WHERE j.state = 'QUEUED' AND j."appId" > q."appId" ORDER BY j."appId" LIMIT 1)
           FROM queued_apps q WHERE q."appId" IS NOT NULL),
       open_apps AS (
         SELECT q."appId", LEAST(COALESCE(r.room, $8), $2) AS room
           FROM queued_apps q
           LEFT JOIN unnest($6::text[], $7::int[]) AS r("appId", room) ON r."appId" = q."appId"
          WHERE q."appId" IS NOT NULL AND NOT (q."appId" = ANY($5::text[]))
            AND NOT EXISTS (SELECT 1 FROM "App" a WHERE a.id = q."appId" AND ${APP_ON_HOLD})),
       queued AS (
         SELECT c.* FROM open_apps o CROSS JOIN LATERAL (
           SELECT j.id, j."appId", j."runAfter" FROM "ProvisioningJob" j
            WHERE j.state = 'QUEUED' AND j."appId" = o."appId" AND j."runAfter" <= $1 AND ${FIRST_OF_ITS_APP_USER}
            ORDER BY j."runAfter", j.id
            LIMIT o.room
            FOR UPDATE OF j SKIP LOCKED) c),
       expired AS (
         SELECT j.id, j."appId", j."runAfter" FROM "ProvisioningJob" j
         WHERE j.state = 'RUNNING' AND j."leaseExpiresAt" <= $1
           AND NOT (j."appId" = ANY($5::text[])) AND ${FIRST_OF_ITS_APP_USER}
           AND NOT EXISTS (SELECT 1 FROM "App" a WHERE a.id = j."appId" AND ${APP_ON_HOLD})
         ORDER BY j."runAfter", j.id
         LIMIT $2
         FOR UPDATE OF j SKIP LOCKED),
       candidates AS (SELECT * FROM queued UNION ALL SELECT * FROM expired),
       ranked AS (
         SELECT c.id, c."runAfter", row_number() OVER (PARTITION BY c."appId" ORDER BY c."runAfter", c.id) AS place,
                COALESCE(r.room, $8) AS room
           FROM candidates c
           LEFT JOIN unnest($6::text[], $7::int[]) AS r("appId", room) ON r."appId" = c."appId"),
       chosen AS (
         SELECT id FROM ranked WHERE place <= room ORDER BY "runAfter", id LIMIT $2),
       claimed AS (
         UPDATE "ProvisioningJob" j
         SET state = 'RUNNING', "leasedBy" = $3, "leaseExpiresAt" = $1::timestamp + make_interval(secs => $4)
         FROM chosen WHERE j.id = chosen.id
         RETURNING j.*)
       SELECT * FROM claimed ORDER BY "runAfter", id`,
      [now, limit, workerId, leaseSeconds, full, room.map(([appId]) => appId), room.map(([, free]) => free), perApp],
    )
  },

  /** Extends the leases the worker still holds; returns the ids it extended (a missing id was lost). */
  async heartbeat(sql: Sql, jobIds: bigint[], workerId: string, leaseSeconds: number, now: Date): Promise<bigint[]> {
    const rows = await sql.query<{ id: bigint }>(
      `UPDATE "ProvisioningJob" SET "leaseExpiresAt" = $3::timestamp + make_interval(secs => $4)
       WHERE id = ANY($1::bigint[]) AND "leasedBy" = $2 AND state = 'RUNNING'
       RETURNING id`,
      [jobIds.map(String), workerId, now, leaseSeconds],
    )
    return rows.map((row) => row.id)
  },

  /** Marks a held job SUCCEEDED; false when the worker no longer holds it. */
  async complete(sql: Sql, jobId: bigint, workerId: string): Promise<boolean> {
    return (await jobRows.settleMany(sql, workerId, [{ id: jobId, state: 'SUCCEEDED' }])).length === 1
  },

  /** Puts a held job back in the queue until `runAfter`, counting the attempt; false when the worker no longer holds it. */
  async reschedule(sql: Sql, jobId: bigint, workerId: string, runAfter: Date): Promise<boolean> {
    return (
      (await jobRows.settleMany(sql, workerId, [{ id: jobId, state: 'QUEUED', runAfter, attempted: true }])).length ===
      1
    )
  },

  /** Marks a held job FAILED (it will not be retried); false when the worker no longer holds it. */
  async fail(sql: Sql, jobId: bigint, workerId: string): Promise<boolean> {
    return (await jobRows.settleMany(sql, workerId, [{ id: jobId, state: 'FAILED' }])).length === 1
  },

  /** Hands held jobs back to the queue without counting an attempt (a worker shutting down). */
  async release(sql: Sql, jobIds: bigint[], workerId: string): Promise<void> {
    await sql.query(
      `UPDATE "ProvisioningJob" SET state = 'QUEUED', "leasedBy" = NULL, "leaseExpiresAt" = NULL
       WHERE id = ANY($1::bigint[]) AND "leasedBy" = $2 AND state = 'RUNNING'`,
      [jobIds.map(String), workerId],
    )
  },

  /**
   * Settles the jobs the worker still holds, in one statement, and returns the ids it settled (a
   * missing id was taken over after its lease). A job back in the queue counts the attempt if it
   * made one, and keeps its due time unless given another; a finished one drops its secret, which is
   * kept only until it is sent.
   */
  async settleMany(sql: Sql, workerId: string, settlements: Settlement[]): Promise<bigint[]> {
    if (settlements.length === 0) return []
    const rows = await sql.query<{ id: bigint }>(
      `UPDATE "ProvisioningJob" j
       SET state = s.state::"ProvisioningJobState",
           attempts = j.attempts + CASE WHEN s.attempted THEN 1 ELSE 0 END,
           "runAfter" = COALESCE(s."runAfter", j."runAfter"),
           secret = CASE WHEN s.state = 'QUEUED' THEN j.secret END,
           "leasedBy" = NULL, "leaseExpiresAt" = NULL
       FROM unnest($2::bigint[], $3::text[], $4::timestamp[], $5::boolean[]) AS s(id, state, "runAfter", attempted)
       WHERE j.id = s.id AND j."leasedBy" = $1 AND j.state = 'RUNNING'
       RETURNING j.id`,
      [
        workerId,
        settlements.map((settlement) => String(settlement.id)),
        settlements.map((settlement) => settlement.state),
        settlements.map((settlement) => (settlement.state === 'QUEUED' ? settlement.runAfter?.toISOString() : null)),
        settlements.map((settlement) => settlement.state === 'QUEUED' && settlement.attempted),
      ],
    )
    return rows.map((row) => row.id)
  },
}

/** Back in the queue (QUEUED): after an attempt, until `runAfter`; or handed back unsent (runAfter null: as it was). */
export type Settlement =
  | { id: bigint; state: 'SUCCEEDED' | 'FAILED' }
  | { id: bigint; state: 'QUEUED'; runAfter: Date; attempted: true }
  | { id: bigint; state: 'QUEUED'; runAfter: null; attempted: false }
