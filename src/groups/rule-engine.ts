import type { Actor } from '../events/event-log'
import type { GroupRule } from '../generated/prisma/client'
import type { UnitOfWork } from '../store/transaction'
import { writeMemberships, type MembershipChange } from './group-membership'
import { membershipRows } from './membership-rows'
import { ruleRows } from './rule-rows'
import { evaluateRule, parseRuleExpression, ruleProfile, type ParsedRule } from './rule-expression'

// Rules may depend on each other through isMemberOfGroup; a few passes reach the fixed point.
const MAX_PASSES = 5

/** A rule as an event target. */
export const ruleTarget = (rule: Pick<GroupRule, 'id' | 'name'>) => ({
  id: rule.id,
  type: 'GroupRule',
  displayName: rule.name,
})

/** Which users to evaluate: some, or the whole population (rule activation). */

export type RuleScope = { userIds: string[] } | 'everyone'

interface ActiveRule {
  rule: GroupRule
  parsed: ParsedRule
}

/**
 * Runs the active group rules for a set of users: a user who matches joins the rule's groups
 * (unless excluded), one who stopped matching leaves the groups that rule added (unless another
 * active rule still puts them there). DEPROVISIONED users are not moved (domain.md 2.1).
 * Evaluation happens in memory over rows loaded in a few queries; writes are set-based.
 * Returns the users whose memberships changed.
 */
export async function applyGroupRules(unit: UnitOfWork, scope: RuleScope, actor: Actor): Promise<string[]> {
  const { tx } = unit
  // Every new user and profile change asks this: hand-written (see user-rows.ts).
  const activeRules = await ruleRows.active(unit.sql)
  const rules: ActiveRule[] = activeRules.map((rule) => ({
    rule,
    parsed: parseRuleExpression(rule.expression),
  }))
  if (rules.length === 0) return []
  const activeRuleIds = new Set(rules.map(({ rule }) => rule.id))
  const userFilter = scope === 'everyone' ? {} : { id: { in: scope.userIds } }
  const users = await tx.user.findMany({ where: { ...userFilter, status: { not: 'DEPROVISIONED' } } })
  if (users.length === 0) return []
  const memberships = await tx.groupMembership.findMany({
    where: scope === 'everyone' ? {} : { userId: { in: users.map((user) => user.id) } },
    select: { groupId: true, userId: true, ruleId: true },
  })

  // userId -> groupId -> ruleId (null for a direct membership)
  const current = new Map<string, Map<string, string | null>>(users.map((user) => [user.id, new Map()]))
  for (const membership of memberships) current.get(membership.userId)?.set(membership.groupId, membership.ruleId)
  const original = new Map([...current].map(([userId, groups]) => [userId, new Map(groups)]))

  for (const user of users) {
    const groups = current.get(user.id)!
    const profile = ruleProfile(user as unknown as Record<string, unknown>)
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      let changed = false
      const subject = { profile, groupIds: new Set(groups.keys()) }
      const matching = rules.filter(
        ({ rule, parsed }) => !rule.excludedUserIds.includes(user.id) && evaluateRule(parsed, subject),
      )
      for (const { rule } of matching) {
        for (const groupId of rule.assignToGroupIds) {
          if (!groups.has(groupId)) {
            groups.set(groupId, rule.id)
            changed = true
          }
        }
      }
      for (const [groupId, ruleId] of groups) {
        // Direct members, and members of rules that are not ACTIVE now, are not this evaluation's to move.
        if (ruleId === null || !activeRuleIds.has(ruleId) || matching.some(({ rule }) => rule.id === ruleId)) continue
        const other = matching.find(({ rule }) => rule.assignToGroupIds.includes(groupId))
        if (other) groups.set(groupId, other.rule.id)
        else groups.delete(groupId)
        changed = true
      }
      if (!changed) break
    }
  }

  const added: MembershipChange[] = []
  const removed: MembershipChange[] = []
  const reassigned: MembershipChange[] = []
  for (const [userId, groups] of current) {
    const before = original.get(userId)!
    for (const [groupId, ruleId] of groups) {
      if (!before.has(groupId)) added.push({ groupId, userId, ruleId })
      else if (before.get(groupId) !== ruleId) reassigned.push({ groupId, userId, ruleId })
    }
    for (const [groupId, ruleId] of before) if (!groups.has(groupId)) removed.push({ groupId, userId, ruleId })
  }
  await writeMemberships(unit, { added, removed }, actor)
  await membershipRows.setRule(unit.sql, reassigned)
  return [...new Set([...added, ...removed].map((change) => change.userId))]
}
