import { domainError, type Result } from '../errors'
import type { Actor, StoredEvent } from '../events/event-log'
import type { EventType } from '../events/event-catalogue'
import type { GroupRule } from '../generated/prisma/client'
import { newId } from '../store/ids'
import { lockGrantsExclusively } from '../store/locks'
import { runUseCase, type Store, type UnitOfWork } from '../store/transaction'
import { writeMemberships } from './group-membership'
import { membershipRows } from './membership-rows'
import { ruleTarget } from './rule-engine'
import { parseRuleExpression, RuleSyntaxError } from './rule-expression'

export interface GroupRuleInput {
  name: string
  expression: string
  assignToGroups: string[]
  excludedUsers?: string[] | null
}

const notInactive = (status: string) =>
  domainError('INVALID_TRANSITION', `Cannot update a group rule whose status is ${status}; deactivate it first.`)

/** Group rules (domain.md 2.1): created INACTIVE, edited only while INACTIVE, activation evaluates everyone. */
export class GroupRuleService {
  constructor(
    private readonly store: Store,
    private readonly publish: (events: StoredEvent[]) => void,
  ) {}

  create(input: GroupRuleInput, actor: Actor): Promise<Result<GroupRule>> {
    return this.run(async (unit) => {
      await this.validate(unit, input.expression, input.assignToGroups)
      const now = new Date()
      const rule = await unit.tx.groupRule.create({
        data: {
          id: newId('GroupRule'),
          name: input.name,
          status: 'INACTIVE',
          expression: input.expression,
          assignToGroupIds: [...new Set(input.assignToGroups)],
          excludedUserIds: [...new Set(input.excludedUsers ?? [])],
          created: now,
          lastUpdated: now,
        },
      })
      unit.record({ type: 'group.user_membership.rule.create', actor, targets: [ruleTarget(rule)] })
      return rule
    })
  }

  /** Replaces name, expression and exclusions; only while INACTIVE, and never the target groups. */
  update(id: string, input: Omit<GroupRuleInput, 'assignToGroups'>, actor: Actor): Promise<Result<GroupRule>> {
    return this.run(async (unit) => {
      const rule = await this.load(unit, id)
      if (rule.status !== 'INACTIVE') unit.abort(notInactive(rule.status))
      await this.validate(unit, input.expression, rule.assignToGroupIds)
      // Compare-and-set on INACTIVE: an activation that commits meanwhile makes this one fail, and
      // one that comes after waits for this edit and evaluates the new expression.
      const changed = await unit.tx.groupRule.updateMany({
        where: { id, status: 'INACTIVE' },
        data: {
          name: input.name,
          expression: input.expression,
          excludedUserIds: [...new Set(input.excludedUsers ?? [])],
          lastUpdated: new Date(),
        },
      })
      if (changed.count === 0) return unit.abort(notInactive((await this.load(unit, id)).status))
      const updated = await this.load(unit, id)
      unit.record({ type: 'group.user_membership.rule.update', actor, targets: [ruleTarget(updated)] })
      return updated
    })
  }

  /** Activates the rule and evaluates it over the whole population in this transaction. */
  activate(id: string, actor: Actor): Promise<Result<GroupRule>> {
    return this.run(async (unit) => {
      await lockGrantsExclusively(unit.sql)
      const rule = await this.changeStatus(unit, id, 'INACTIVE', 'ACTIVE', actor)
      unit.fact({ kind: 'ruleActivated', rule, actor })
      return rule
    })
  }

  /** Deactivates the rule; members it added stay (Okta keeps them). */
  deactivate(id: string, actor: Actor): Promise<Result<GroupRule>> {
    return this.run((unit) =>
      this.changeStatus(unit, id, 'ACTIVE', 'INACTIVE', actor, 'group.user_membership.rule.deactivated'),
    )
  }

  /** Deletes the rule; with removeUsers the members it added leave their groups, otherwise they stay as direct members. */
  delete(id: string, removeUsers: boolean, actor: Actor): Promise<Result<GroupRule>> {
    return this.run(async (unit) => {
      await lockGrantsExclusively(unit.sql)
      const rule = await this.load(unit, id)
      const added = await unit.tx.groupMembership.findMany({ where: { ruleId: id } })
      if (removeUsers) await writeMemberships(unit, { added: [], removed: added }, actor)
      else await membershipRows.releaseRule(unit.sql, id)
      await unit.tx.groupRule.delete({ where: { id } })
      unit.record({
        type: 'group.user_membership.rule.delete',
        actor,
        targets: [ruleTarget(rule)],
        data: { removeUsers, members: added.length },
      })
      // As for any membership change: the remaining rules re-run (isMemberOfGroup), then the grants follow.
      if (removeUsers)
        unit.fact({
          kind: 'membershipsChanged',
          userIds: [...new Set(added.map((membership) => membership.userId))],
          actor,
        })
      return rule
    })
  }

  private async changeStatus(
    unit: UnitOfWork,
    id: string,
    from: 'ACTIVE' | 'INACTIVE',
    to: 'ACTIVE' | 'INACTIVE',
    actor: Actor,
    eventType: EventType = 'group.user_membership.rule.activate',
  ): Promise<GroupRule> {
    const changed = await unit.tx.groupRule.updateMany({
      where: { id, status: from },
      data: { status: to, lastUpdated: new Date() },
    })
    // Read after the compare-and-set: it may have waited for a concurrent edit of the rule.
    const rule = await this.load(unit, id)
    if (changed.count === 0) {
      unit.abort(
        domainError(
          'INVALID_TRANSITION',
          `Cannot ${to === 'ACTIVE' ? 'activate' : 'deactivate'} a group rule whose status is ${rule.status}.`,
        ),
      )
    }
    unit.record({ type: eventType, actor, targets: [ruleTarget(rule)], data: { previousStatus: from, status: to } })
    return rule
  }

  /** The expression parses (else VALIDATION naming the position) and names only existing OKTA_GROUP targets. */
  private async validate(unit: UnitOfWork, expression: string, groupIds: string[]) {
    let referenced: string[]
    try {
      referenced = parseRuleExpression(expression).groupIds
    } catch (error) {
      if (!(error instanceof RuleSyntaxError)) throw error
      return unit.abort(
        domainError('VALIDATION', `Invalid expression at position ${error.position}: ${error.message}`, ['expression']),
      )
    }
    const groups = await unit.tx.group.findMany({
      where: { id: { in: [...groupIds, ...referenced] } },
      select: { id: true, type: true },
    })
    const known = new Map(groups.map((group) => [group.id, group.type]))
    const missing = [...groupIds, ...referenced].filter((id) => !known.has(id))
    if (missing.length)
      unit.abort(
        domainError(
          'VALIDATION',
          `Unknown groups: ${[...new Set(missing)].join(', ')}.`,
          missing.some((id) => groupIds.includes(id)) ? ['assignToGroups'] : ['expression'],
        ),
      )
    const notTargetable = groupIds.filter((id) => known.get(id) !== 'OKTA_GROUP')
    if (notTargetable.length)
      unit.abort(
        domainError('VALIDATION', `Rules can only add users to OKTA_GROUP groups: ${notTargetable.join(', ')}.`, [
          'assignToGroups',
        ]),
      )
  }

  private async load(unit: UnitOfWork, id: string): Promise<GroupRule> {
    return (
      (await unit.tx.groupRule.findFirst({ where: { id } })) ??
      unit.abort(domainError('NOT_FOUND', `No group rule with id ${id}.`, ['id']))
    )
  }

  private run<T>(work: (unit: UnitOfWork) => Promise<T>): Promise<Result<T>> {
    return runUseCase(this.store, this.publish, work)
  }
}
