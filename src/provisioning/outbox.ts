import type { JobType } from '../apps/app-user-rules'
import { lockDeprovisioningGuards } from '../store/locks'
import type { Sql } from '../store/unit-connection'
import { decideDeactivations, type GuardInput } from './deprovisioning-guard'

/**
 * The provisioning outbox: the only writer of new ProvisioningJob rows. Jobs are written in the
 * transaction of the change that needs them, so a change and its downstream work commit together
 * or not at all. The same transaction sends a NOTIFY, which PostgreSQL (and PGlite) deliver only
 * at commit: workers in this process and in others wake as soon as the work is visible, never before.
 */
export const PROVISIONING_CHANNEL = 'provisioning_jobs'
/**
 * The payload of a notification on PROVISIONING_CHANNEL that queues nothing but withdraws work a
 * worker may hold claimed and unsent: `withdrawn:<app user ids, comma-separated>`, or `withdrawn`
 * alone when they would not fit a payload (8,000 bytes). A worker re-reads those app users (all
 * of its ready jobs', for the bare form) before starting their jobs (app-user-rules.ts
 * isWithdrawn). Queued work notifies with an empty payload.
 */
const WITHDRAWN = 'withdrawn'
const WITHDRAWN_IDS_MAX_LENGTH = 7_000

/**
 * The payload `paused:<app id>` of a notification that an app was paused: workers hand the jobs of
 * that app they hold claimed and unsent back to the queue, where the claim skips them until resumed.
 */
const PAUSED = 'paused'

/** What a notification on PROVISIONING_CHANNEL says, read back from its payload (the reverse of the writers here). */
export type ProvisioningNotice =
  | { kind: 'queued' }
  /** `appUserIds` null: any app user's (the bare form). */
  | { kind: 'withdrawn'; appUserIds: string[] | null }
  | { kind: 'paused'; appId: string }

export function readNotice(payload: string): ProvisioningNotice {
  if (payload.startsWith(`${PAUSED}:`)) return { kind: 'paused', appId: payload.slice(PAUSED.length + 1) }
  if (payload.startsWith(`${WITHDRAWN}:`))
    return { kind: 'withdrawn', appUserIds: payload.slice(WITHDRAWN.length + 1).split(',') }
  return payload === WITHDRAWN ? { kind: 'withdrawn', appUserIds: null } : { kind: 'queued' }
}

export interface QueuedJob {
  appUserId: string
  appId: string
  userId: string
  type: JobType
  /** A PASSWORD job's password, already sealed (provisioning/secrets.ts). */
  secret?: string | null
}

/** A guard that tripped: the first hold while none was pending for the app (one event per trip). */
export interface GuardTrip extends Omit<GuardInput, 'incoming'> {
  appId: string
  passed: number
  held: number
}

/** What queuing held back: the app users whose DEACTIVATE is HELD, and the apps whose guard tripped. */
export interface QueueOutcome {
  held: Set<string>
  trips: GuardTrip[]
}

interface GuardState {
  appId: string
  maxCount: number | null
  maxPercent: number | null
  windowMinutes: number
  provisioned: number
  inWindow: number
  holdPending: boolean
}

export const outbox = {
  /**
   * Queues jobs in one statement. The caller holds the app users' rows (or the grants gate that
   * covers them), so per app user the ids grow in commit order: the claim order relies on it.
   * With `guarded`, DEACTIVATE jobs pass the app's deprovisioning guard first: those past its
   * threshold are written HELD (not claimed until an administrator releases them), and the
   * caller marks their app users HELD.
   */
  async queue(sql: Sql, jobs: QueuedJob[], now: Date, options: { guarded?: boolean } = {}): Promise<QueueOutcome> {
    const outcome: QueueOutcome = { held: new Set(), trips: [] }
    if (jobs.length === 0) return outcome
    if (options.guarded) Object.assign(outcome, await guard(sql, jobs, now))
    await sql.query(
      `WITH queued AS (
         INSERT INTO "ProvisioningJob" ("appUserId", "appId", "userId", type, secret, state, created, "runAfter")
         SELECT j."appUserId", j."appId", j."userId", j.type::"ProvisioningJobType", j.secret,
                j.state::"ProvisioningJobState", $7, $7
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
             WITH ORDINALITY AS j("appUserId", "appId", "userId", type, secret, state, position)
          ORDER BY j.position
         RETURNING 1)
       SELECT pg_notify('${PROVISIONING_CHANNEL}', '') FROM (SELECT 1 FROM queued LIMIT 1) AS any_queued`,
      [
        jobs.map((job) => job.appUserId),
        jobs.map((job) => job.appId),
        jobs.map((job) => job.userId),
        jobs.map((job) => job.type),
        jobs.map((job) => job.secret ?? null),
        jobs.map((job) => (job.type === 'DEACTIVATE' && outcome.held.has(job.appUserId) ? 'HELD' : 'QUEUED')),
        now,
      ],
    )
    return outcome
  },

  /** Sends held deactivations: they become queued and run in order with their app users' other jobs. */
  async releaseHeld(sql: Sql, appUserIds: string[], now: Date): Promise<void> {
    if (appUserIds.length === 0) return
    await sql.query(
      `WITH released AS (
         UPDATE "ProvisioningJob" SET state = 'QUEUED', "runAfter" = $2
          WHERE "appUserId" = ANY($1::text[]) AND state = 'HELD'
         RETURNING 1)
       SELECT pg_notify('${PROVISIONING_CHANNEL}', '') FROM (SELECT 1 FROM released LIMIT 1) AS any_released`,
      [appUserIds, now],
    )
  },

  /** Drops held deactivations an administrator discarded: nothing is sent for them. */
  async discardHeld(sql: Sql, appUserIds: string[]): Promise<void> {
    if (appUserIds.length === 0) return
    await sql.query(`DELETE FROM "ProvisioningJob" WHERE "appUserId" = ANY($1::text[]) AND state = 'HELD'`, [
      appUserIds,
    ])
  },

  /**
   * Drops the work not yet started, queued or held: a queued create (or update) must not run for
   * an assignment that is gone, nor a held deactivation for one granted again. A job a worker has
   * claimed is its to withdraw before sending: the app users of such jobs are named in a WITHDRAWN
   * notification (after commit), and a job already sent finishes, re-read when it settles. Claimed
   * means running as this statement began, or queued then and not deleted by it: claimed while the
   * DELETE waited for its row.
   */
  async cancelQueued(sql: Sql, appUserIds: string[]): Promise<void> {
    if (appUserIds.length === 0) return
    await sql.query(
      `WITH cancelled AS (
         DELETE FROM "ProvisioningJob" WHERE "appUserId" = ANY($1::text[]) AND state IN ('QUEUED', 'HELD')
         RETURNING id),
       claimed AS (
         SELECT DISTINCT j."appUserId" FROM "ProvisioningJob" j
          WHERE j."appUserId" = ANY($1::text[]) AND j.state IN ('QUEUED', 'RUNNING')
            AND NOT EXISTS (SELECT 1 FROM cancelled c WHERE c.id = j.id)),
       named AS (SELECT string_agg("appUserId", ',') AS ids FROM claimed)
       SELECT pg_notify('${PROVISIONING_CHANNEL}',
                        '${WITHDRAWN}' || CASE WHEN length(ids) <= $2 THEN ':' || ids ELSE '' END)
         FROM named WHERE ids IS NOT NULL`,
      [appUserIds, WITHDRAWN_IDS_MAX_LENGTH],
    )
  },

  /** Tells the workers (after commit) that the app was paused: the jobs of it they hold claimed go back unsent. */
  async notifyPaused(sql: Sql, appId: string): Promise<void> {
    await sql.query(`SELECT pg_notify('${PROVISIONING_CHANNEL}', '${PAUSED}:' || $1::text)`, [appId])
  },

  /** Wakes the workers (after commit) without queuing anything: a resumed app's queue is claimable again. */
  async notify(sql: Sql): Promise<void> {
    await sql.query(`SELECT pg_notify('${PROVISIONING_CHANNEL}', '')`)
  },
}

/**
 * Decides per app how many of the batch's deactivations pass (the first ones) and holds the rest.
 * The count and the insert are serialized per app by its guard lock (store/locks.ts 4b), so two
 * transactions cannot both pass under the threshold. "Provisioned" counts the app users being
 * deactivated here as still provisioned: the percentage is of the app as it was before the batch.
 */
async function guard(sql: Sql, jobs: QueuedJob[], now: Date): Promise<QueueOutcome> {
  const deactivations = new Map<string, string[]>()
  for (const job of jobs) {
    if (job.type !== 'DEACTIVATE') continue
    const ofApp = deactivations.get(job.appId) ?? []
    ofApp.push(job.appUserId)
    deactivations.set(job.appId, ofApp)
  }
  const outcome: QueueOutcome = { held: new Set(), trips: [] }
  if (deactivations.size === 0) return outcome
  const appIds = [...deactivations.keys()]
  await lockDeprovisioningGuards(sql, appIds)
  const states = await sql.query<GuardState>(
    `SELECT a.id AS "appId", a."guardMaxCount" AS "maxCount", a."guardMaxPercent" AS "maxPercent",
            a."guardWindowMinutes" AS "windowMinutes", guarded.*
       FROM "App" a
       CROSS JOIN LATERAL (
         SELECT
           (SELECT count(*)::int FROM "AppUser" au
             WHERE au."appId" = a.id AND au."externalId" IS NOT NULL
               AND (au.status IN ('PROVISIONED', 'ACTIVE') OR au.id = ANY($2::text[]))) AS provisioned,
           (SELECT count(*)::int FROM "ProvisioningJob" j
             WHERE j."appId" = a.id AND j.type = 'DEACTIVATE' AND j.state <> 'HELD'
               AND j.created > $3::timestamp - make_interval(mins => a."guardWindowMinutes")) AS "inWindow",
           EXISTS (SELECT 1 FROM "ProvisioningJob" j WHERE j."appId" = a.id AND j.state = 'HELD') AS "holdPending"
         WHERE a."guardMaxCount" IS NOT NULL OR a."guardMaxPercent" IS NOT NULL) AS guarded
      WHERE a.id = ANY($1::text[])`,
    [appIds, [...deactivations.values()].flat(), now],
  )
  for (const state of states) {
    const appUserIds = deactivations.get(state.appId)!
    const settings = { maxCount: state.maxCount, maxPercent: state.maxPercent, windowMinutes: state.windowMinutes }
    const { provisioned, inWindow } = state
    const decision = decideDeactivations({ settings, provisioned, inWindow, incoming: appUserIds.length })
    if (decision.held === 0) continue
    for (const appUserId of appUserIds.slice(decision.pass)) outcome.held.add(appUserId)
    if (!state.holdPending)
      outcome.trips.push({
        appId: state.appId,
        settings,
        provisioned,
        inWindow,
        passed: decision.pass,
        held: decision.held,
      })
  }
  return outcome
}
