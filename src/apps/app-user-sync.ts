import { Prisma as PrismaSql } from '../generated/prisma/client'
import type { App, AppUser } from '../generated/prisma/client'
import type { Actor, EventTarget } from '../events/event-log'
import { outbox, type GuardTrip } from '../provisioning/outbox'
import { newId } from '../store/ids'
import type { UnitOfWork } from '../store/transaction'
import { onGrant, onPasswordChange, onProfileChange, onRevoke, type AppUserChange } from './app-user-rules'
import { appUserRows } from './app-user-rows'
import { provisioningPolicy } from './features'
import { grantRows } from './grant-rows'

/**
 * Which assignments to reconcile: those of some users, or of some apps. A caller that knows the
 * users were created in this unit of work (no app users yet) or deactivated (no grants that count) says so,
 * which spares a read on every create and deactivation.
 */
export type SyncScope = { userIds: string[]; users?: 'new' | 'deactivated' } | { appIds: string[] }

export interface SyncOutcome {
  granted: AppUser[]
  revoked: AppUser[]
}

const key = (appId: string, userId: string) => `${appId}\u0000${userId}`

/**
 * Reconciles app users with their grants (direct assignments, and apps assigned to the user's
 * groups) in a bounded number of set-based statements. A user keeps an app while any grant
 * remains; DEPROVISIONED users hold none. Only ACTIVE apps are touched: assignments on an
 * INACTIVE app are left as they are (domain.md 1.6). Every change writes its app-user status,
 * its provisioning job and its event in the caller's transaction. The caller holds the users'
 * locks or the exclusive grants gate (store/locks.ts): no other transaction is changing the grants
 * read here, and no other creates the same app user.
 */
export async function syncAppUsers(unit: UnitOfWork, scope: SyncScope, actor: Actor): Promise<SyncOutcome> {
  const { tx } = unit
  const byUsers = 'userIds' in scope
  const ids = byUsers ? scope.userIds : scope.appIds
  if (ids.length === 0) return { granted: [], revoked: [] }
  // Two statements every lifecycle change runs, hand-written (grant-rows.ts, app-user-rows.ts).
  const known = byUsers ? scope.users : undefined
  const grants =
    known === 'deactivated' ? [] : await grantRows.live(unit.sql, byUsers ? { userIds: ids } : { appIds: ids })
  const existing =
    known === 'new' ? [] : await appUserRows.onActiveApps(unit.sql, byUsers ? { userIds: ids } : { appIds: ids })

  const wanted = new Map(grants.map((grant) => [key(grant.appId, grant.userId), grant]))
  const current = new Map(existing.map((row) => [key(row.appId, row.userId), row]))
  if (grants.length === 0 && existing.every((row) => row.status === 'DEPROVISIONED'))
    return { granted: [], revoked: [] }
  const appIds = [...new Set([...grants.map((grant) => grant.appId), ...existing.map((row) => row.appId)])]
  const apps = new Map((await tx.app.findMany({ where: { id: { in: appIds } } })).map((app) => [app.id, app]))
  const policyOf = (appId: string) =>
    provisioningPolicy(apps.get(appId) as App & { provisioningStatus: 'ENABLED' | 'DISABLED' })

  const now = new Date()
  const created: AppUser[] = []
  const changes: { row: AppUser; change: AppUserChange; kind: 'grant' | 'revoke' }[] = []
  const scopeFixes: { ids: string[]; scope: 'USER' | 'GROUP' }[] = [
    { ids: [], scope: 'USER' },
    { ids: [], scope: 'GROUP' },
  ]
  for (const [grantKey, grant] of wanted) {
    const scopeValue = grant.direct ? 'USER' : 'GROUP'
    const row = current.get(grantKey)
    if (!row) {
      const change = onGrant(policyOf(grant.appId), null)
      created.push({
        id: newId('AppUser'),
        appId: grant.appId,
        userId: grant.userId,
        scope: scopeValue,
        status: change.status,
        syncState: change.syncState,
        externalId: null,
        lastSync: null,
        provisioningError: null,
        created: now,
        lastUpdated: now,
        statusChanged: now,
      })
      changes.push({ row: created.at(-1)!, change, kind: 'grant' })
    } else if (row.status === 'DEPROVISIONED') {
      changes.push({ row: { ...row, scope: scopeValue }, change: onGrant(policyOf(grant.appId), row), kind: 'grant' })
    } else if (row.scope !== scopeValue) {
      scopeFixes[scopeValue === 'USER' ? 0 : 1].ids.push(row.id)
    }
  }
  for (const [rowKey, row] of current) {
    if (!wanted.has(rowKey) && row.status !== 'DEPROVISIONED') {
      changes.push({ row, change: onRevoke(policyOf(row.appId), row), kind: 'revoke' })
    }
  }

  if (created.length) await tx.appUser.createMany({ data: created as PrismaSql.AppUserCreateManyInput[] })
  // A job not yet started for an app user who lost the app must not run (a create would resurrect
  // it); a held deactivation of one granted again is dropped, and the grant's own job follows.
  const cancelled = changes.filter(({ row, kind }) => kind === 'revoke' || row.syncState === 'HELD')
  await outbox.cancelQueued(
    unit.sql,
    cancelled.map(({ row }) => row.id),
  )
  const jobs = changes
    .filter((entry) => entry.change.job)
    .map(({ row, change }) => ({ appUserId: row.id, appId: row.appId, userId: row.userId, type: change.job! }))
  // Deactivations past the app's deprovisioning guard are held, and their app users show it.
  const { held, trips } = await outbox.queue(unit.sql, jobs, now, { guarded: true })
  for (const entry of changes) {
    if (held.has(entry.row.id)) entry.change = { ...entry.change, syncState: 'HELD' }
  }

  // Rows that change the same way are written with one statement.
  const updates = new Map<string, { ids: string[]; change: AppUserChange; scope: 'USER' | 'GROUP' | undefined }>()
  for (const { row, change, kind } of changes) {
    if (created.includes(row)) continue
    const scopeValue = kind === 'grant' ? row.scope : undefined
    const groupKey = `${change.status}|${change.syncState}|${scopeValue}`
    const entry = updates.get(groupKey) ?? { ids: [], change, scope: scopeValue }
    entry.ids.push(row.id)
    updates.set(groupKey, entry)
  }
  for (const { ids: rowIds, change, scope: scopeValue } of updates.values()) {
    await tx.appUser.updateMany({
      where: { id: { in: rowIds } },
      data: {
        status: change.status,
        syncState: change.syncState,
        statusChanged: now,
        lastUpdated: now,
        ...(scopeValue ? { scope: scopeValue } : {}),
      },
    })
  }
  for (const fix of scopeFixes) {
    if (fix.ids.length)
      await tx.appUser.updateMany({ where: { id: { in: fix.ids } }, data: { scope: fix.scope, lastUpdated: now } })
  }

  await recordMembershipEvents(unit, changes, new Set(created.map((row) => row.id)), apps, actor)
  for (const trip of trips) recordGuardTrip(unit, trip, apps.get(trip.appId)!, actor)
  const after = (entry: (typeof changes)[number]) => ({
    ...entry.row,
    status: entry.change.status,
    syncState: entry.change.syncState,
    statusChanged: now,
  })
  return {
    granted: changes.filter((entry) => entry.kind === 'grant').map(after),
    revoked: changes.filter((entry) => entry.kind === 'revoke').map(after),
  }
}

async function recordMembershipEvents(
  unit: UnitOfWork,
  changes: { row: AppUser; change: AppUserChange; kind: 'grant' | 'revoke' }[],
  createdIds: ReadonlySet<string>,
  apps: Map<string, App>,
  actor: Actor,
) {
  if (changes.length === 0) return
  const userIds = [...new Set(changes.map((entry) => entry.row.userId))]
  const logins = new Map(
    (await unit.tx.user.findMany({ where: { id: { in: userIds } }, select: { id: true, login: true } })).map((user) => [
      user.id,
      user.login,
    ]),
  )
  for (const { row, change, kind } of changes) {
    const app = apps.get(row.appId)!
    // A row created here has no previous state (its status is already the new one).
    const previous = createdIds.has(row.id) ? null : row
    const targets: EventTarget[] = [
      { id: row.userId, type: 'User', displayName: logins.get(row.userId) ?? null },
      { id: row.appId, type: 'AppInstance', displayName: app.label },
      { id: row.id, type: 'AppUser', displayName: null },
    ]
    unit.record({
      type: kind === 'grant' ? 'application.user_membership.add' : 'application.user_membership.remove',
      actor,
      targets,
      data: {
        appUserId: row.id,
        appId: row.appId,
        userId: row.userId,
        previousStatus: previous?.status ?? null,
        status: change.status,
        previousSyncState: previous?.syncState ?? null,
        syncState: change.syncState,
        scope: row.scope,
        job: change.job,
      },
    })
  }
}

/** The app's deprovisioning guard tripped: one event per trip, naming the threshold it met. */
function recordGuardTrip(unit: UnitOfWork, trip: GuardTrip, app: App, actor: Actor) {
  unit.record({
    type: 'application.provision.guard.trip',
    actor,
    targets: [{ id: app.id, type: 'AppInstance', displayName: app.label }],
    data: {
      appId: app.id,
      held: trip.held,
      passed: trip.passed,
      provisioned: trip.provisioned,
      inWindow: trip.inWindow,
      ...trip.settings,
    },
  })
}

/** A user's profile changed: app users on apps that push profiles become OUT_OF_SYNC with an UPDATE job. */
export async function queueProfilePush(unit: UnitOfWork, userId: string): Promise<void> {
  const appUsers = await unit.tx.appUser.findMany({
    where: { userId, app: { status: 'ACTIVE' } },
    include: { app: true },
  })
  const now = new Date()
  const pushes = appUsers.filter((row) =>
    onProfileChange(provisioningPolicy(row.app as App & { provisioningStatus: 'ENABLED' | 'DISABLED' }), row),
  )
  if (pushes.length === 0) return
  await unit.tx.appUser.updateMany({
    where: { id: { in: pushes.map((row) => row.id) } },
    data: { syncState: 'OUT_OF_SYNC', lastUpdated: now },
  })
  await outbox.queue(
    unit.sql,
    pushes.map((row) => ({ appUserId: row.id, appId: row.appId, userId, type: 'UPDATE' as const })),
    now,
  )
}

/**
 * A user's password was set or changed: app users on apps that push Okta password changes get a
 * PASSWORD job carrying `sealed()`, the password sealed for the worker (called only when a job is
 * queued). The clear password never reaches a row.
 */
export async function queuePasswordPush(unit: UnitOfWork, userId: string, sealed: () => string): Promise<void> {
  const appUsers = await unit.tx.appUser.findMany({
    where: { userId, status: { not: 'DEPROVISIONED' }, app: { status: 'ACTIVE', provisioningStatus: 'ENABLED' } },
    include: {
      app: true,
      provisioningJobs: { where: { type: 'CREATE', state: { in: ['QUEUED', 'RUNNING'] } }, select: { id: true } },
    },
  })
  const pushes = appUsers.flatMap((row) => {
    const policy = provisioningPolicy(row.app as App & { provisioningStatus: 'ENABLED' | 'DISABLED' })
    const change = onPasswordChange(policy, { ...row, createPending: row.provisioningJobs.length > 0 })
    return change ? [{ row, change }] : []
  })
  if (pushes.length === 0) return
  const now = new Date()
  const outOfSync = pushes
    .filter(({ row, change }) => change.syncState === 'OUT_OF_SYNC' && row.syncState !== 'OUT_OF_SYNC')
    .map(({ row }) => row.id)
  if (outOfSync.length)
    await unit.tx.appUser.updateMany({
      where: { id: { in: outOfSync } },
      data: { syncState: 'OUT_OF_SYNC', lastUpdated: now },
    })
  await outbox.queue(
    unit.sql,
    pushes.map(({ row }) => ({
      appUserId: row.id,
      appId: row.appId,
      userId,
      type: 'PASSWORD' as const,
      secret: sealed(),
    })),
    now,
  )
}
