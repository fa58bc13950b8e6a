import type { AppUserStatus, JobType, SyncState } from '../apps/app-user-rules'
import { appTarget } from '../apps/app-service'
import type { EventType } from '../events/event-catalogue'
import type { Actor } from '../events/event-log'
import type { App, AppUser } from '../generated/prisma/client'
import type { UnitOfWork } from '../store/transaction'

/** An app user before an administrator's decision, and what the decision made of it. */
export interface DecidedChange {
  appUser: AppUser
  status: AppUserStatus
  syncState: SyncState
  job?: JobType | null
}

/**
 * Records one event per app user an administrator's provisioning decision changed (retry, dismiss,
 * release, discard), targeting the app user, its app and its user, with the change in `data` so
 * subscribers see it as the app user's change. One read for the users' logins, however many.
 */
export async function recordAppUserChanges(
  unit: UnitOfWork,
  { type, actor, app, changes }: { type: EventType; actor: Actor; app: App; changes: DecidedChange[] },
): Promise<void> {
  const users = await unit.tx.user.findMany({
    where: { id: { in: [...new Set(changes.map(({ appUser }) => appUser.userId))] } },
    select: { id: true, login: true },
  })
  const logins = new Map(users.map((user) => [user.id, user.login]))
  for (const { appUser, status, syncState, job } of changes) {
    unit.record({
      type,
      actor,
      targets: [
        { id: appUser.id, type: 'AppUser', displayName: null },
        appTarget(app),
        { id: appUser.userId, type: 'User', displayName: logins.get(appUser.userId) ?? null },
      ],
      data: {
        appUserId: appUser.id,
        appId: appUser.appId,
        userId: appUser.userId,
        previousStatus: appUser.status,
        status,
        previousSyncState: appUser.syncState,
        syncState,
        ...(job === undefined ? {} : { job }),
      },
    })
  }
}
