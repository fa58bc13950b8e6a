import { appRows } from '../apps/app-rows'
import { onDismiss, onRetry, type AppUserChange } from '../apps/app-user-rules'
import { appUserRows } from '../apps/app-user-rows'
import { appTarget } from '../apps/app-service'
import { provisioningPolicy } from '../apps/features'
import { domainError, type Result } from '../errors'
import type { EventType } from '../events/event-catalogue'
import type { Actor, StoredEvent } from '../events/event-log'
import type { App, AppUser } from '../generated/prisma/client'
import { lockGrantsExclusively } from '../store/locks'
import { runUseCase, type Store, type UnitOfWork } from '../store/transaction'
import { userRows } from '../users/user-rows'
import { recordAppUserChanges } from './app-user-change-events'
import { settleHolds, type HoldDecision } from './holds'
import { outbox } from './outbox'

const provisioningNotEnabled = (app: App) =>
  domainError(
    'PROVISIONING_NOT_ENABLED',
    `Provisioning is not enabled for the app instance ${app.label} (enable its provisioning connection first).`,
    ['appId'],
  )

/** An app user with the change a rule decided for it. */
interface Decided {
  appUser: AppUser
  change: AppUserChange
}

/**
 * What an administrator does to provisioning (api.md "Provisioning operations"): retry an app
 * user's work or every failed one of an app, dismiss an error, pause and resume an app. The
 * rules of app-user-rules.ts decide; this applies them, one transaction per use case.
 */
export class ProvisioningService {
  constructor(
    private readonly store: Store,
    private readonly publish: (events: StoredEvent[]) => void,
  ) {}

  /**
   * Queues again the work the app user's state still needs (its queued jobs replaced), clearing its
   * error; a deactivation the guard holds is released instead (api.md: retry re-queues held work).
   */
  retry(appId: string, userId: string, actor: Actor): Promise<Result<AppUser>> {
    return this.run(async (unit) => {
      const { app, appUser } = await this.lockAppUser(unit, appId, userId)
      const policy = provisioningPolicy(app)
      if (!policy.pushes) unit.abort(provisioningNotEnabled(app))
      const [held] = await appUserRows.lockHeld(unit.sql, appId, [appUser.id])
      if (held) return (await settleHolds(unit, app, [held], 'release', actor))[0]
      const change = onRetry(policy, appUser)
      if (!change)
        return unit.abort(
          domainError(
            'INVALID_TRANSITION',
            `Nothing to retry for an app user whose status is ${appUser.status} (syncState ${appUser.syncState}): nothing is owed downstream.`,
            ['userId'],
          ),
        )
      const [written] = await this.apply(unit, app, [{ appUser, change }], 'application.provision.user.retry', actor)
      return written
    })
  }

  /** `retry` for every app user of the app in syncState ERROR, in a fixed number of statements. */
  retryApp(appId: string, actor: Actor): Promise<Result<{ app: App; requeued: number }>> {
    return this.run(async (unit) => {
      // App users of many users are written: the exclusive gate stands for all their users' locks (store/locks.ts).
      await lockGrantsExclusively(unit.sql)
      const app = await this.loadApp(unit, appId)
      const policy = provisioningPolicy(app)
      if (!policy.pushes) unit.abort(provisioningNotEnabled(app))
      const failed = await appUserRows.lockInSyncState(unit.sql, appId, 'ERROR')
      const decided = failed.flatMap((appUser) => {
        const change = onRetry(policy, appUser)
        return change ? [{ appUser, change }] : []
      })
      await this.apply(unit, app, decided, 'application.provision.user.retry', actor)
      return { app, requeued: decided.length }
    })
  }

  /** Sends the held deactivations of the app users named (all the app's when `appUserIds` is null). */
  releaseHolds(appId: string, appUserIds: string[] | null, actor: Actor) {
    return this.settleHolds(appId, appUserIds, 'release', actor)
  }

  /** Cancels the held deactivations named (all when null): nothing is sent; the app users stay DEPROVISIONED. */
  discardHolds(appId: string, appUserIds: string[] | null, actor: Actor) {
    return this.settleHolds(appId, appUserIds, 'discard', actor)
  }

  private settleHolds(
    appId: string,
    appUserIds: string[] | null,
    decision: HoldDecision,
    actor: Actor,
  ): Promise<Result<{ app: App; count: number }>> {
    return this.run(async (unit) => {
      // App users of many users are written: the exclusive gate stands for all their users' locks (store/locks.ts).
      await lockGrantsExclusively(unit.sql)
      const app = await this.loadApp(unit, appId)
      if (!provisioningPolicy(app).pushes) unit.abort(provisioningNotEnabled(app))
      const ids = appUserIds && [...new Set(appUserIds)]
      const held = await appUserRows.lockHeld(unit.sql, appId, ids)
      if (ids && held.length < ids.length) {
        const heldIds = new Set(held.map((appUser) => appUser.id))
        const notHeld = ids.filter((id) => !heldIds.has(id))
        unit.abort(
          domainError(
            'INVALID_TRANSITION',
            `No deactivation of ${app.label} is held for: ${notHeld.join(', ')} (nothing was changed).`,
            ['appUserIds'],
          ),
        )
      }
      await settleHolds(unit, app, held, decision, actor)
      return { app, count: held.length }
    })
  }

  /** Clears an app user's provisioning error without retrying: its status stays, syncState OUT_OF_SYNC. */
  dismissError(appId: string, userId: string, actor: Actor): Promise<Result<AppUser>> {
    return this.run(async (unit) => {
      const { app, appUser } = await this.lockAppUser(unit, appId, userId)
      const change = onDismiss(appUser)
      if (!change)
        return unit.abort(
          domainError(
            'INVALID_TRANSITION',
            `Only a provisioning error can be dismissed; the app user's syncState is ${appUser.syncState}.`,
            ['userId'],
          ),
        )
      const [written] = await this.apply(unit, app, [{ appUser, change }], 'application.provision.user.dismiss', actor)
      return written
    })
  }

  /**
   * No new attempt starts for the app until resumed: queued work waits, and work a worker holds
   * claimed goes back to the queue unsent. Pausing a paused app changes nothing.
   */
  pause(appId: string, actor: Actor): Promise<Result<App>> {
    return this.setPaused(appId, true, actor)
  }

  /** Queued work of the app runs again: the workers are woken at commit. */
  resume(appId: string, actor: Actor): Promise<Result<App>> {
    return this.setPaused(appId, false, actor)
  }

  private setPaused(appId: string, paused: boolean, actor: Actor) {
    return this.run(async (unit) => {
      const app = await appRows.setProvisioningPaused(unit.sql, appId, paused, new Date())
      if (!app) return this.loadApp(unit, appId) // already so: nothing to record
      unit.record({
        type: paused ? 'application.provision.pause' : 'application.provision.resume',
        actor,
        targets: [appTarget(app)],
      })
      if (paused) await outbox.notifyPaused(unit.sql, appId)
      else await outbox.notify(unit.sql)
      return app
    })
  }

  /**
   * Writes the decided changes (errors cleared), replaces the queued work of those that get a job,
   * and records one event each; a fixed number of statements however many app users.
   */
  private async apply(unit: UnitOfWork, app: App, decided: Decided[], type: EventType, actor: Actor) {
    if (decided.length === 0) return []
    const now = new Date()
    const written = await appUserRows.writeClearingError(
      unit.sql,
      decided.map(({ appUser, change }) => ({ id: appUser.id, status: change.status, syncState: change.syncState })),
      now,
    )
    const requeued = decided.filter(({ change }) => change.job)
    // The queued job is replaced, not joined: per app user, the newest decision is the work owed.
    await outbox.cancelQueued(
      unit.sql,
      requeued.map(({ appUser }) => appUser.id),
    )
    await outbox.queue(
      unit.sql,
      requeued.map(({ appUser, change }) => ({
        appUserId: appUser.id,
        appId: appUser.appId,
        userId: appUser.userId,
        type: change.job!,
      })),
      now,
    )
    await recordAppUserChanges(unit, {
      type,
      actor,
      app,
      changes: decided.map(({ appUser, change }) => ({ appUser, ...change })),
    })
    return written
  }

  /**
   * Locks the app user under its user's lock (steps 1-2 of store/locks.ts: an app user is written
   * only under its user's lock, so a concurrent revocation cannot cancel jobs before this one's are
   * queued), then its own row, which the worker's settlement locks too; then reads its app.
   */
  private async lockAppUser(unit: UnitOfWork, appId: string, userId: string) {
    await userRows.lock(unit.sql, [userId])
    const appUser = await appUserRows.lockOne(unit.sql, appId, userId)
    const app = await this.loadApp(unit, appId)
    if (!appUser)
      return unit.abort(domainError('NOT_FOUND', `The user ${userId} is not assigned to ${app.label}.`, ['userId']))
    return { app, appUser }
  }

  private async loadApp(unit: UnitOfWork, id: string): Promise<App> {
    return (
      (await unit.tx.app.findFirst({ where: { id } })) ??
      unit.abort(domainError('NOT_FOUND', `No app with id ${id}.`, ['appId']))
    )
  }

  private run<T>(work: (unit: UnitOfWork) => Promise<T>): Promise<Result<T>> {
    return runUseCase(this.store, this.publish, work)
  }
}
