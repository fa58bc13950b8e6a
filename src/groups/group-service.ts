import { domainError, type Result } from '../errors'
import type { Actor, StoredEvent } from '../events/event-log'
import type { Group } from '../generated/prisma/client'
import { newId } from '../store/ids'
import { lockGrantsExclusively } from '../store/locks'
import { runUseCase, type Store, type UnitOfWork } from '../store/transaction'
import { userRows } from '../users/user-rows'
import { membershipIsManagedHere, writeMemberships } from './group-membership'
import { membershipRows } from './membership-rows'
import { parseRuleExpression } from './rule-expression'

const nameTaken = (name?: string) =>
  domainError('CONFLICT', name ? `A group named ${name} already exists.` : 'A group with this name already exists.', [
    'name',
  ])
const groupTarget = (group: Group) => ({ id: group.id, type: 'UserGroup', displayName: group.name })
const notModifiable = (group: Group, what: string) =>
  domainError(
    'NOT_MODIFIABLE',
    group.type === 'BUILT_IN'
      ? `${group.name} is a built-in group; its ${what} cannot be changed.`
      : `${group.name} is an APP_GROUP; its ${what} changes only through imports.`,
  )

/** Groups and direct memberships; every change cascades to rules and app grants in its transaction. */
export class GroupService {
  constructor(
    private readonly store: Store,
    private readonly publish: (events: StoredEvent[]) => void,
  ) {}

  create(input: { name: string; description?: string | null }, actor: Actor) {
    return this.run(async (unit) => {
      await this.requireUniqueName(unit, input.name)
      const now = new Date()
      const group = await unit.tx.group.create({
        data: {
          id: newId('Group'),
          type: 'OKTA_GROUP',
          name: input.name,
          description: input.description ?? null,
          created: now,
          lastUpdated: now,
        },
      })
      unit.record({ type: 'group.lifecycle.create', actor, targets: [groupTarget(group)] })
      return group
    })
  }

  update(id: string, input: { name?: string | null; description?: string | null }, actor: Actor) {
    return this.run(async (unit) => {
      // It holds the group row until its events are appended: no membership change may wait on it meanwhile.
      await lockGrantsExclusively(unit.sql)
      const group = await this.load(unit, id)
      if (group.type === 'BUILT_IN') unit.abort(notModifiable(group, 'profile'))
      if (input.name && input.name !== group.name) await this.requireUniqueName(unit, input.name)
      const updated = await unit.tx.group.update({
        where: { id },
        data: {
          ...(input.name ? { name: input.name } : {}),
          ...(input.description !== undefined ? { description: input.description } : {}),
          lastUpdated: new Date(),
        },
      })
      unit.record({ type: 'group.profile.update', actor, targets: [groupTarget(updated)] })
      return updated
    })
  }

  /** Deletes a group: members lose the apps it granted; rules that name it become INVALID. */
  delete(id: string, actor: Actor) {
    return this.run(async (unit) => {
      await lockGrantsExclusively(unit.sql)
      const group = await this.load(unit, id)
      if (group.type === 'BUILT_IN') unit.abort(notModifiable(group, 'existence'))
      const apps = await unit.tx.appGroupAssignment.findMany({ where: { groupId: id }, select: { appId: true } })
      const dependentRules = (await unit.tx.groupRule.findMany({ where: { status: { not: 'INVALID' } } })).filter(
        (rule) => rule.assignToGroupIds.includes(id) || safeGroupIds(rule.expression).includes(id),
      )
      await unit.tx.group.delete({ where: { id } })
      unit.record({ type: 'group.lifecycle.delete', actor, targets: [groupTarget(group)] })
      if (dependentRules.length) {
        await unit.tx.groupRule.updateMany({
          where: { id: { in: dependentRules.map((rule) => rule.id) } },
          data: { status: 'INVALID', lastUpdated: new Date() },
        })
        for (const rule of dependentRules) {
          unit.record({
            type: 'group.user_membership.rule.invalidate',
            actor,
            targets: [{ id: rule.id, type: 'GroupRule', displayName: rule.name }],
            data: { reason: `group ${group.name} (${group.id}) was deleted` },
          })
        }
      }
      unit.fact({ kind: 'appGrantsChanged', appIds: apps.map((app) => app.appId), actor })
      return group
    })
  }

  addMember(groupId: string, userId: string, actor: Actor) {
    return this.run(async (unit) => {
      const group = await this.load(unit, groupId)
      if (!membershipIsManagedHere(group)) unit.abort(notModifiable(group, 'membership'))
      await this.lockUser(unit, userId)
      const existing = await unit.tx.groupMembership.findFirst({ where: { groupId, userId } })
      let changedAt: Date | undefined
      if (existing?.ruleId) {
        // An admin adding a rule-managed member makes the membership direct (it outlives the rule).
        await membershipRows.setRule(unit.sql, [{ groupId, userId, ruleId: null }])
      } else if (!existing) {
        changedAt = await writeMemberships(unit, { added: [{ groupId, userId, ruleId: null }], removed: [] }, actor)
        unit.fact({ kind: 'membershipsChanged', userIds: [userId], actor })
      }
      return asChanged(await unit.tx.group.findFirstOrThrow({ where: { id: groupId } }), changedAt)
    })
  }

  /**
   * Removes a member. Removing a rule-managed member also excludes the user from that rule
   * (as Okta's console does), or the rule would put them back at its next evaluation.
   */
  removeMember(groupId: string, userId: string, actor: Actor) {
    return this.run(async (unit) => {
      const group = await this.load(unit, groupId)
      if (!membershipIsManagedHere(group)) unit.abort(notModifiable(group, 'membership'))
      await this.lockUser(unit, userId)
      const membership = await unit.tx.groupMembership.findFirst({ where: { groupId, userId } })
      if (!membership)
        return unit.abort(domainError('NOT_FOUND', `User ${userId} is not a member of ${group.name}.`, ['userId']))
      if (membership.ruleId) {
        // Every rule that targets the group would put the user back, not only the one that did.
        const rules = (await unit.tx.groupRule.findMany({ where: { assignToGroupIds: { has: groupId } } })).filter(
          (rule) => !rule.excludedUserIds.includes(userId),
        )
        for (const rule of rules) {
          await unit.tx.groupRule.update({
            where: { id: rule.id },
            data: { excludedUserIds: [...rule.excludedUserIds, userId] },
          })
          unit.record({
            type: 'group.user_membership.rule.add_exclusion',
            actor,
            targets: [{ id: rule.id, type: 'GroupRule', displayName: rule.name }],
            data: { userId },
          })
        }
      }
      const changedAt = await writeMemberships(unit, { added: [], removed: [membership] }, actor)
      unit.fact({ kind: 'membershipsChanged', userIds: [userId], actor })
      return asChanged(await unit.tx.group.findFirstOrThrow({ where: { id: groupId } }), changedAt)
    })
  }

  private async requireUniqueName(unit: UnitOfWork, name: string) {
    if (await unit.tx.group.findFirst({ where: { name }, select: { id: true } })) unit.abort(nameTaken(name))
  }

  private async load(unit: UnitOfWork, id: string): Promise<Group> {
    return (
      (await unit.tx.group.findFirst({ where: { id } })) ??
      unit.abort(domainError('NOT_FOUND', `No group with id ${id}.`, ['groupId']))
    )
  }

  /** The member's lock comes before reading memberships and grants (store/locks.ts). */
  private async lockUser(unit: UnitOfWork, id: string) {
    if ((await userRows.lock(unit.sql, [id])).length === 0)
      unit.abort(domainError('NOT_FOUND', `No user with id ${id}.`, ['userId']))
  }

  private run<T>(work: (unit: UnitOfWork) => Promise<T>): Promise<Result<T>> {
    // Group names are unique: a concurrent create or rename may take the name first.
    return runUseCase(this.store, this.publish, work, nameTaken())
  }
}

function safeGroupIds(expression: string): string[] {
  try {
    return parseRuleExpression(expression).groupIds
  } catch {
    return []
  }
}

/** The group as its payload shows it: lastMembershipUpdated is written at commit (writeMemberships). */
const asChanged = (group: Group, membershipChangedAt: Date | undefined): Group =>
  membershipChangedAt ? { ...group, lastMembershipUpdated: membershipChangedAt } : group
