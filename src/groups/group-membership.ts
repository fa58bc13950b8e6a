import type { EventType } from '../events/event-catalogue'
import type { Actor } from '../events/event-log'
import type { Group } from '../generated/prisma/client'
import type { UnitOfWork } from '../store/transaction'
import { membershipRows, type MembershipRow } from './membership-rows'

/** A membership added or removed; ruleId is the rule that added (or, for a removal, had added) it. */
export type MembershipChange = MembershipRow

/**
 * Writes membership additions and removals set-based (a few statements however many rows),
 * with one `group.user_membership.add/remove` event each; the groups' lastMembershipUpdated is
 * written at the end of the transaction (Everyone's row is touched by every new user). Returns
 * that time, for a caller that answers with a group read before it is written.
 */
export async function writeMemberships(
  unit: UnitOfWork,
  changes: { added: MembershipChange[]; removed: MembershipChange[] },
  actor: Actor,
  /** Display names the caller already has (saves reading them back). */
  known: { groupNames?: Map<string, string>; logins?: Map<string, string> } = {},
): Promise<Date | undefined> {
  const { tx } = unit
  const { added, removed } = changes
  if (added.length === 0 && removed.length === 0) return undefined
  const now = new Date()
  await membershipRows.insert(unit.sql, added, now)
  await membershipRows.delete(unit.sql, removed)
  const groupIds = [...new Set([...added, ...removed].map((change) => change.groupId))]
  unit.membershipChanged(groupIds, now)

  const userIds = [...new Set([...added, ...removed].map((change) => change.userId))]
  const groupName = known.groupNames?.size
    ? known.groupNames
    : new Map(
        (await tx.group.findMany({ where: { id: { in: groupIds } }, select: { id: true, name: true } })).map(
          (group) => [group.id, group.name],
        ),
      )
  const login = known.logins?.size
    ? known.logins
    : new Map(
        (await tx.user.findMany({ where: { id: { in: userIds } }, select: { id: true, login: true } })).map((user) => [
          user.id,
          user.login,
        ]),
      )
  const record = (type: EventType) => (change: MembershipChange) =>
    unit.record({
      type,
      actor,
      targets: [
        { id: change.userId, type: 'User', displayName: login.get(change.userId) ?? null },
        { id: change.groupId, type: 'UserGroup', displayName: groupName.get(change.groupId) ?? null },
      ],
      data: { groupId: change.groupId, ...(change.ruleId ? { ruleId: change.ruleId } : {}) },
    })
  added.forEach(record('group.user_membership.add'))
  removed.forEach(record('group.user_membership.remove'))
  return now
}

/** Direct membership changes are allowed only on OKTA_GROUP groups (APP_GROUP: imports; BUILT_IN: the system). */
export const membershipIsManagedHere = (group: Pick<Group, 'type'>) => group.type === 'OKTA_GROUP'

export const EVERYONE_GROUP_ID = 'grp_everyone'
