import { onJobStopped, onJobSucceeded, type AppUserStatus, type JobType, type SyncState } from '../apps/app-user-rules'
import { appRows } from '../apps/app-rows'
import { appUserRows, type ProvisioningWrite } from '../apps/app-user-rows'
import { provisioningPolicy } from '../apps/features'
import type { EventType } from '../events/event-catalogue'
import type { EventDraft, StoredEvent } from '../events/event-log'
import { SYSTEM_ACTOR } from '../events/event-log'
import type { ProvisioningJob } from '../generated/prisma/client'
import { runUseCase, type Store, type UnitOfWork } from '../store/transaction'
import { userRows } from '../users/user-rows'
import { attemptRows } from './attempt-rows'
import { jobRows, type Settlement } from './job-rows'
import type { JobOutcome } from './job-runner'
import type { ProvisioningOperation } from './retry-policy'
import { outbox } from './outbox'

/**
 * Writes what a batch of finished jobs did, in one transaction: the jobs settled (only those this
 * worker still holds), the app users' status, syncState, externalId and error, the attempt log,
 * a 429's hold on the app, follow-up jobs, and one event per change. Lock order (store/locks.ts):
 * the shared grants gate and the users' rows first, so no sync reconciles these app users from a
 * stale read meanwhile; then the apps held by a 429; then the job rows.
 */
export interface FinishedJob {
  job: Pick<ProvisioningJob, 'id' | 'appUserId' | 'appId' | 'userId' | 'type' | 'attempts'>
  outcome: JobOutcome
}

const SUCCESS_EVENTS: Record<ProvisioningOperation, EventType> = {
  CREATE: 'application.provision.user.push',
  LINK: 'application.provision.user.push',
  UPDATE: 'application.provision.user.push_profile',
  DEACTIVATE: 'application.provision.user.deactivate',
  REACTIVATE: 'application.provision.user.reactivate',
  PASSWORD: 'application.provision.user.push_password',
  IMPORT: 'application.provision.user.push',
}

export async function settleJobs(
  store: Store,
  publish: (events: StoredEvent[]) => void,
  workerId: string,
  finished: FinishedJob[],
  now: Date,
): Promise<void> {
  if (finished.length === 0) return
  const result = await runUseCase(store, publish, (unit) => settle(unit, workerId, finished, now))
  if (!result.ok) throw new Error(result.errors.map((error) => error.message).join('; '))
}

async function settle(unit: UnitOfWork, workerId: string, finished: FinishedJob[], now: Date): Promise<void> {
  const { sql } = unit
  const users = new Map(
    (await userRows.lock(sql, [...new Set(finished.map(({ job }) => job.userId))])).map((user) => [user.id, user]),
  )
  // Before any job or app-user row: deleting an app takes them after the app's row, so settling
  // them first and the app after deadlocked with deleteApp (test/provisioning/adversarial.test.ts).
  const apps = new Map(
    (await appRows.keepFromDeletion(sql, [...new Set(finished.map(({ job }) => job.appId))])).map((app) => [
      app.id,
      app,
    ]),
  )
  await appRows.holdProvisioningUntil(
    sql,
    finished.flatMap(({ job, outcome: { result } }) =>
      (result.kind === 'RETRY_SCHEDULED' || result.kind === 'FAILED') && result.pauseAppUntil
        ? [{ appId: job.appId, until: result.pauseAppUntil }]
        : [],
    ),
  )
  const held = new Set(
    await jobRows.settleMany(
      sql,
      workerId,
      finished.map(({ job, outcome }) => settlementOf(job.id, outcome)),
    ),
  )
  // The app users still there (the users' and apps' locks keep them): a job whose app user was
  // deleted while it ran logs nothing, else its attempts would break the foreign key and sink the batch.
  const appUsers = new Map(
    (
      await appUserRows.byIds(
        sql,
        finished.map(({ job }) => job.appUserId),
      )
    ).map((row) => [row.id, row]),
  )
  await attemptRows.insertMany(
    sql,
    finished
      .filter(({ job }) => appUsers.has(job.appUserId))
      .flatMap(({ job, outcome }) =>
        outcome.attempts.map((attempt) => ({ ...attempt, appUserId: job.appUserId, appId: job.appId })),
      ),
  )
  // A job taken over after its lease is the new holder's to settle: its requests are logged above, nothing more.
  const mine = finished.filter(({ job }) => held.has(job.id))

  const writes: ProvisioningWrite[] = []
  const followUps: Parameters<typeof outbox.queue>[1] = []
  for (const { job, outcome } of mine) {
    const appUser = appUsers.get(job.appUserId)
    const app = apps.get(job.appId)
    if (!appUser || !app) continue
    const before = { status: appUser.status as AppUserStatus, syncState: appUser.syncState as SyncState }
    const next = nextState(provisioningPolicy(app), job, before, outcome, now)
    writes.push({ id: appUser.id, ...next.write })
    if (next.job) followUps.push({ appUserId: appUser.id, appId: job.appId, userId: job.userId, type: next.job })
    const event = eventOf(outcome, job.attempts + 1)
    if (!event) continue
    unit.record({
      ...event,
      actor: SYSTEM_ACTOR,
      targets: [
        { id: appUser.id, type: 'AppUser', displayName: null },
        { id: app.id, type: 'AppInstance', displayName: app.label },
        { id: job.userId, type: 'User', displayName: users.get(job.userId)?.login ?? null },
      ],
      data: {
        appUserId: appUser.id,
        appId: job.appId,
        userId: job.userId,
        previousStatus: before.status,
        status: next.write.status,
        previousSyncState: before.syncState,
        syncState: next.write.syncState,
        externalId: appUser.externalId ?? next.write.externalId,
        ...event.data,
      },
    })
  }
  await appUserRows.applyProvisioning(sql, writes, now)
  await outbox.queue(sql, followUps, now)
}

function settlementOf(id: bigint, { result }: JobOutcome): Settlement {
  if (result.kind === 'RETRY_SCHEDULED') return { id, state: 'QUEUED', runAfter: result.runAfter, attempted: true }
  if (result.kind === 'HANDED_BACK') return { id, state: 'QUEUED', runAfter: null, attempted: false }
  return { id, state: result.kind === 'FAILED' ? 'FAILED' : 'SUCCEEDED' }
}

/** What the job's outcome makes of the app user (the table of app-user-rules.ts for successes). */
function nextState(
  policy: ReturnType<typeof provisioningPolicy>,
  { type, attempts }: FinishedJob['job'],
  before: { status: AppUserStatus; syncState: SyncState },
  { result }: JobOutcome,
  now: Date,
): { write: Omit<ProvisioningWrite, 'id'>; job: JobType | null } {
  if (result.kind === 'SUCCEEDED') {
    const change = onJobSucceeded(policy, type, before)
    return {
      write: {
        status: change.status,
        syncState: change.syncState,
        externalId: result.externalId,
        provisioningError: null,
        lastSync: change.syncState === 'SYNCHRONIZED' ? now : undefined,
      },
      job: change.job,
    }
  }
  const { status, syncState } = onJobStopped(policy, type, before, result.kind)
  const provisioningError =
    result.kind === 'FAILED'
      ? { summary: result.summary, causes: result.causes, occurredAt: now.toISOString(), attempts: attempts + 1 }
      : undefined
  return { write: { status, syncState, externalId: null, provisioningError }, job: null }
}

/** The event an outcome records, if any: every success, every failure, and the retries the policy names. */
function eventOf({ result }: JobOutcome, attempt: number): Pick<EventDraft, 'type' | 'outcome' | 'data'> | null {
  const httpStatus = (status: number | null) => ({ httpStatus: status })
  if (result.kind === 'SUCCEEDED') {
    return {
      type: SUCCESS_EVENTS[result.operation],
      data: { operation: result.operation, ...httpStatus(result.httpStatus) },
    }
  }
  if (result.kind === 'FAILED') {
    return {
      type: result.event,
      outcome: { result: 'FAILURE', reason: result.causes[0] },
      data: { ...httpStatus(result.httpStatus), attempts: attempt },
    }
  }
  if (result.kind === 'RETRY_SCHEDULED' && result.event) {
    return {
      type: result.event,
      outcome: { result: 'FAILURE', reason: result.detail },
      data: {
        ...httpStatus(result.httpStatus),
        retryAt: result.runAfter.toISOString(),
        ...(result.pauseAppUntil && { pausedUntil: result.pauseAppUntil.toISOString() }),
      },
    }
  }
  return null
}
