import type { JobType } from '../apps/app-user-rules'
import type { Sql } from '../store/unit-connection'

/**
 * The provisioning outbox: the only writer of new ProvisioningJob rows. Jobs are written in the
 * transaction of the change that needs them, so a change and its downstream work commit together
 * or not at all. The same transaction sends a NOTIFY, which PostgreSQL (and PGlite) deliver only
 * at commit: workers in this process and in others wake as soon as the work is visible, never before.
 */
export const PROVISIONING_CHANNEL = 'provisioning_jobs'

export interface QueuedJob {
  appUserId: string
  appId: string
  userId: string
  type: JobType
  /** A PASSWORD job's password, already sealed (provisioning/secrets.ts). */
  secret?: string | null
}

export const outbox = {
  /**
   * Queues jobs in one statement. The caller holds the app users' rows (or the grants gate that
   * covers them), so per app user the ids grow in commit order: the claim order relies on it.
   */
  async queue(sql: Sql, jobs: QueuedJob[], now: Date): Promise<void> {
    if (jobs.length === 0) return
    await sql.query(
      `WITH queued AS (
         INSERT INTO "ProvisioningJob" ("appUserId", "appId", "userId", type, secret, created, "runAfter")
         SELECT j."appUserId", j."appId", j."userId", j.type::"ProvisioningJobType", j.secret, $6, $6
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
             WITH ORDINALITY AS j("appUserId", "appId", "userId", type, secret, position)
          ORDER BY j.position
         RETURNING 1)
       SELECT pg_notify('${PROVISIONING_CHANNEL}', '') FROM (SELECT 1 FROM queued LIMIT 1) AS any_queued`,
      [
        jobs.map((job) => job.appUserId),
        jobs.map((job) => job.appId),
        jobs.map((job) => job.userId),
        jobs.map((job) => job.type),
        jobs.map((job) => job.secret ?? null),
        now,
      ],
    )
  },

  /**
   * Drops the work not yet started for app users that lost their app: a queued create (or update)
   * must not run for an assignment that is gone. A job already running finishes; the worker
   * re-reads the app user when it settles.
   */
  async cancelQueued(sql: Sql, appUserIds: string[]): Promise<void> {
    if (appUserIds.length === 0) return
    await sql.query(`DELETE FROM "ProvisioningJob" WHERE "appUserId" = ANY($1::text[]) AND state = 'QUEUED'`, [
      appUserIds,
    ])
  },

  /** Wakes the workers (after commit) without queuing anything: a resumed app's queue is claimable again. */
  async notify(sql: Sql): Promise<void> {
    await sql.query(`SELECT pg_notify('${PROVISIONING_CHANNEL}', '')`)
  },
}
