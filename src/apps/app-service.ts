import { domainError, type Result } from '../errors'
import type { Actor, StoredEvent } from '../events/event-log'
import type { App, Prisma as PrismaTypes } from '../generated/prisma/client'
import type { Prisma } from '../store/database'
import { newId } from '../store/ids'
import { lockGrantsExclusively } from '../store/locks'
import { runUseCase, type Store, type UnitOfWork } from '../store/transaction'
import type { GuardSettings } from '../provisioning/deprovisioning-guard'
import type { SecretBox } from '../provisioning/secrets'
import { appRows } from './app-rows'
import { userRows } from '../users/user-rows'
import {
  allFeatures,
  updateFeature,
  type Capabilities,
  type Enablement,
  type Feature,
  type FeatureName,
  type StoredFeatures,
} from './features'

export const appTarget = (app: App) => ({ id: app.id, type: 'AppInstance', displayName: app.label })

export interface ConnectionInput {
  baseUrl?: string | null
  authScheme?: 'TOKEN' | null
  token?: string | null
  status?: Enablement | null
  /** Omitted fields keep their value; null maxCount or maxPercent turns that limit off. */
  deprovisioningGuard?: { maxCount?: number | null; maxPercent?: number | null; windowMinutes?: number | null } | null
}

/** `field` names the input that chose the app, for a mutation's userError. */
const provisioningNotEnabled = (app: App, field?: string[]) =>
  domainError(
    'PROVISIONING_NOT_ENABLED',
    `Provisioning is not enabled for the app instance ${app.label} (enable its provisioning connection first).`,
    field,
  )

// The user's own password would wait for its push in clear: refused rather than stored so.
const oktaSeedNeedsKey = domainError(
  'FEATURE_NOT_SUPPORTED',
  'The OKTA password seed needs SECRET_KEY: without it the passwords to push would be stored in clear.',
  ['capabilities', 'update', 'password', 'seed'],
)

/** Features of an app (no I/O: from the row at hand); PROVISIONING_NOT_ENABLED while its connection is not enabled. */
export function featuresOf(app: App): Result<Feature[]> {
  if (app.provisioningStatus !== 'ENABLED') return { ok: false, errors: [provisioningNotEnabled(app)] }
  return { ok: true, value: allFeatures(app.features as StoredFeatures) }
}

/** The guard columns an update writes: only the fields given (undefined keeps, null turns a limit off). */
function guardColumns(guard: ConnectionInput['deprovisioningGuard']) {
  if (!guard) return {}
  return {
    ...(guard.maxCount !== undefined && { guardMaxCount: guard.maxCount }),
    ...(guard.maxPercent !== undefined && { guardMaxPercent: guard.maxPercent }),
    ...(guard.windowMinutes != null && { guardWindowMinutes: guard.windowMinutes }),
  }
}

/** An app's deprovisioning guard settings, as api.md names them. */
export function guardOf(app: App): GuardSettings {
  return { maxCount: app.guardMaxCount, maxPercent: app.guardMaxPercent, windowMinutes: app.guardWindowMinutes }
}

/** Applications, their provisioning connection and features, and app assignments (direct and by group). */
const notActive = (status: string) =>
  domainError('INVALID_TRANSITION', `Cannot assign to an app whose status is ${status}.`, ['appId'])

export class AppService {
  constructor(
    private readonly store: Store,
    private readonly publish: (events: StoredEvent[]) => void,
    private readonly secrets: SecretBox,
  ) {}

  create(input: { name: string; label: string; signOnMode: string }, actor: Actor) {
    return this.run(async (unit) => {
      const now = new Date()
      const app = await unit.tx.app.create({
        data: { id: newId('App'), ...input, status: 'ACTIVE', created: now, lastUpdated: now },
      })
      unit.record({ type: 'application.lifecycle.create', actor, targets: [appTarget(app)] })
      return app
    })
  }

  update(id: string, input: { label?: string | null; signOnMode?: string | null }, actor: Actor) {
    return this.run(async (unit) => {
      await this.load(unit, id)
      const app = await unit.tx.app.update({
        where: { id },
        data: {
          ...(input.label ? { label: input.label } : {}),
          ...(input.signOnMode ? { signOnMode: input.signOnMode } : {}),
          lastUpdated: new Date(),
        },
      })
      unit.record({ type: 'application.lifecycle.update', actor, targets: [appTarget(app)] })
      return app
    })
  }

  /** Activating catches up on grants made while the app was INACTIVE. */
  activate(id: string, actor: Actor) {
    return this.run(async (unit) => {
      await lockGrantsExclusively(unit.sql)
      const app = await this.changeStatus(unit, id, 'INACTIVE', 'ACTIVE', actor)
      unit.fact({ kind: 'appGrantsChanged', appIds: [id], actor })
      return app
    })
  }

  /** Deactivating leaves its app users as they are (domain.md 1.6). */
  deactivate(id: string, actor: Actor) {
    return this.run((unit) => this.changeStatus(unit, id, 'ACTIVE', 'INACTIVE', actor))
  }

  /** Only an INACTIVE app can be deleted (as in Okta); its assignments and their jobs go with it. */
  delete(id: string, actor: Actor) {
    return this.run(async (unit) => {
      const app = await this.load(unit, id)
      if (app.status !== 'INACTIVE')
        unit.abort(
          domainError('INVALID_TRANSITION', `Cannot delete an app whose status is ${app.status}; deactivate it first.`),
        )
      await unit.tx.app.delete({ where: { id } })
      unit.record({ type: 'application.lifecycle.delete', actor, targets: [appTarget(app)] })
      return app
    })
  }

  updateConnection(appId: string, input: ConnectionInput, actor: Actor) {
    return this.run(async (unit) => {
      const current = await this.load(unit, appId)
      const baseUrl = input.baseUrl ?? current.provisioningBaseUrl
      const status = input.status ?? current.provisioningStatus
      if (status === 'ENABLED' && !baseUrl)
        unit.abort(domainError('VALIDATION', 'An enabled connection needs a baseUrl.', ['baseUrl']))
      const app = await unit.tx.app.update({
        where: { id: appId },
        data: {
          provisioningBaseUrl: baseUrl,
          provisioningAuthScheme: input.authScheme ?? current.provisioningAuthScheme ?? 'TOKEN',
          ...(input.token != null ? { provisioningToken: this.secrets.seal(input.token) } : {}),
          provisioningStatus: status,
          ...guardColumns(input.deprovisioningGuard),
          lastUpdated: new Date(),
        },
      })
      unit.record({
        type: 'application.lifecycle.update',
        actor,
        targets: [appTarget(app)],
        data: {
          provisioning: { status, baseUrl, ...(input.deprovisioningGuard && { deprovisioningGuard: guardOf(app) }) },
        },
      })
      return app
    })
  }

  /** Partial update: only the given capability paths change; the feature comes back whole. */
  updateFeature(
    appId: string,
    name: FeatureName,
    change: { status?: Enablement | null; capabilities?: Capabilities | null },
    actor: Actor,
  ) {
    return this.run(async (unit) => {
      const app = await this.load(unit, appId)
      if (app.provisioningStatus !== 'ENABLED') unit.abort(provisioningNotEnabled(app, ['appId']))
      const updated = updateFeature(app.features as StoredFeatures, name, change)
      if (!updated.ok) return unit.abort(updated.error)
      if (change.capabilities?.update?.password?.seed === 'OKTA' && !this.secrets.configured)
        unit.abort(oktaSeedNeedsKey)
      await unit.tx.app.update({
        where: { id: appId },
        data: { features: updated.features as PrismaTypes.InputJsonValue, lastUpdated: new Date() },
      })
      unit.record({ type: 'application.lifecycle.update', actor, targets: [appTarget(app)], data: { feature: name } })
      return updated.feature
    })
  }

  assignUser(appId: string, userId: string, actor: Actor) {
    return this.run(async (unit) => {
      const app = await this.requireActive(unit, appId)
      const [user] = await userRows.lock(unit.sql, [userId])
      if (!user) return unit.abort(domainError('NOT_FOUND', `No user with id ${userId}.`, ['userId']))
      if (user.status === 'DEPROVISIONED')
        unit.abort(
          domainError('INVALID_TRANSITION', 'Cannot assign an app to a user whose status is DEPROVISIONED.', [
            'userId',
          ]),
        )
      // Re-read under a share lock, after the user's: a deactivation that committed meanwhile refuses the grant.
      const status = await appRows.statusForShare(unit.sql, appId)
      if (status !== 'ACTIVE') unit.abort(notActive(status ?? 'deleted'))
      const created = await unit.tx.appDirectAssignment.createMany({ data: [{ appId, userId }], skipDuplicates: true })
      if (created.count === 0)
        unit.abort(domainError('CONFLICT', `The user is already assigned to ${app.label}.`, ['userId']))
      unit.fact({ kind: 'grantsChanged', userIds: [userId], actor })
      await unit.settle()
      return unit.tx.appUser.findFirstOrThrow({ where: { appId, userId } })
    })
  }

  /** Removes the direct grant; the app stays while a group still grants it. */
  unassignUser(appId: string, userId: string, actor: Actor) {
    return this.run(async (unit) => {
      await this.load(unit, appId)
      await userRows.lock(unit.sql, [userId])
      const removed = await unit.tx.appDirectAssignment.deleteMany({ where: { appId, userId } })
      if (removed.count === 0)
        unit.abort(domainError('NOT_FOUND', 'The user is not directly assigned to this app.', ['userId']))
      unit.fact({ kind: 'grantsChanged', userIds: [userId], actor })
      await unit.settle()
      return unit.tx.appUser.findFirst({ where: { appId, userId } })
    })
  }

  /** Every member, now and later, gets the app (scope GROUP); lower priority numbers win. */
  assignGroup(appId: string, groupId: string, priority: number | null | undefined, actor: Actor) {
    return this.run(async (unit) => {
      await lockGrantsExclusively(unit.sql)
      const app = await this.requireActive(unit, appId)
      const group = await unit.tx.group.findFirst({ where: { id: groupId } })
      if (!group) return unit.abort(domainError('NOT_FOUND', `No group with id ${groupId}.`, ['groupId']))
      if (await unit.tx.appGroupAssignment.findFirst({ where: { appId, groupId } })) {
        unit.abort(domainError('CONFLICT', `${group.name} is already assigned to ${app.label}.`, ['groupId']))
      }
      const last = await unit.tx.appGroupAssignment.aggregate({ where: { appId }, _max: { priority: true } })
      const created = await unit.tx.appGroupAssignment.create({
        data: { appId, groupId, priority: priority ?? (last._max.priority ?? -1) + 1 },
      })
      const assignment = { ...created, group }
      unit.record({
        type: 'group.application_assignment.add',
        actor,
        targets: [{ id: group.id, type: 'UserGroup', displayName: group.name }, appTarget(app)],
        data: { priority: assignment.priority },
      })
      unit.fact({ kind: 'appGrantsChanged', appIds: [appId], actor })
      return assignment
    })
  }

  unassignGroup(appId: string, groupId: string, actor: Actor) {
    return this.run(async (unit) => {
      await lockGrantsExclusively(unit.sql)
      const app = await this.load(unit, appId)
      const assignment = await unit.tx.appGroupAssignment.findFirst({
        where: { appId, groupId },
        include: { group: true },
      })
      if (!assignment)
        return unit.abort(domainError('NOT_FOUND', 'The group is not assigned to this app.', ['groupId']))
      await unit.tx.appGroupAssignment.delete({ where: { appId_groupId: { appId, groupId } } })
      unit.record({
        type: 'group.application_assignment.remove',
        actor,
        targets: [{ id: groupId, type: 'UserGroup', displayName: assignment.group.name }, appTarget(app)],
      })
      unit.fact({ kind: 'appGrantsChanged', appIds: [appId], actor })
      return assignment
    })
  }

  private async changeStatus(
    unit: UnitOfWork,
    id: string,
    from: 'ACTIVE' | 'INACTIVE',
    to: 'ACTIVE' | 'INACTIVE',
    actor: Actor,
  ) {
    const app = await this.load(unit, id)
    const changed = await unit.tx.app.updateMany({
      where: { id, status: from },
      data: { status: to, lastUpdated: new Date() },
    })
    if (changed.count === 0)
      unit.abort(
        domainError(
          'INVALID_TRANSITION',
          `Cannot ${to === 'ACTIVE' ? 'activate' : 'deactivate'} an app whose status is ${app.status}.`,
        ),
      )
    unit.record({
      type: to === 'ACTIVE' ? 'application.lifecycle.activate' : 'application.lifecycle.deactivate',
      actor,
      targets: [appTarget(app)],
    })
    return { ...app, status: to }
  }

  private async requireActive(unit: UnitOfWork, id: string): Promise<App> {
    const app = await this.load(unit, id)
    if (app.status !== 'ACTIVE') unit.abort(notActive(app.status))
    return app
  }

  private async load(unit: UnitOfWork, id: string): Promise<App> {
    return (
      (await unit.tx.app.findFirst({ where: { id } })) ??
      unit.abort(domainError('NOT_FOUND', `No app with id ${id}.`, ['appId']))
    )
  }

  private run<T>(work: (unit: UnitOfWork) => Promise<T>): Promise<Result<T>> {
    return runUseCase(this.store, this.publish, work)
  }
}
