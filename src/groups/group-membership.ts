import type { EventType } from '../events/event-catalogue'
import type { Actor } from '../events/event-log'
import type { Group } from '../generated/prisma/client'
import type { UnitOfWork } from '../store/transaction'

export interface MembershipChange {
  groupId: string
  userId: string
  /** The rule that added (or, for a removal, had added) the membership. */
  ruleId: string | null
}

/**
 * Writes membership additions and removals set-based (a few statements however many rows),
 * with one `group.user_membership.add/remove` event each; the groups' lastMembershipUpdated is
 * written at the end of the transaction (Everyone's row is touched by every new user).
 */
export async function writeMemberships(
  unit: UnitOfWork,
  changes: { added: MembershipChange[]; removed: MembershipChange[] },
  actor: Actor,
  /** Display names the caller already has (saves reading them back). */
  known: { groupNames?: Map<string, string>; logins?: Map<string, string> } = {},
): Promise<void> {
  const { tx } = unit
  const { added, removed } = changes
  if (added.length === 0 && removed.length === 0) return
  const now = new Date()
  if (added.length) {
    await unit.sql.query(
      `INSERT INTO "GroupMembership" ("groupId", "userId", "ruleId", created)
       SELECT added.*, $4::timestamp(3) FROM unnest($1::text[], $2::text[], $3::text[]) AS added
       ON CONFLICT DO NOTHING`,
      [
        added.map((change) => change.groupId),
        added.map((change) => change.userId),
        added.map((change) => change.ruleId),
        now,
      ],
    )
  }
  for (const [groupId, userIds] of byGroup(removed)) {
    await tx.groupMembership.deleteMany({ where: { groupId, userId: { in: userIds } } })
  }
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
}

function byGroup(changes: MembershipChange[]): Map<string, string[]> {
  const map = new Map<string, string[]>()
  for (const change of changes) map.set(change.groupId, [...(map.get(change.groupId) ?? []), change.userId])
  return map
}

/** Direct membership changes are allowed only on OKTA_GROUP groups (APP_GROUP: imports; BUILT_IN: the system). */
export const membershipIsManagedHere = (group: Pick<Group, 'type'>) => group.type === 'OKTA_GROUP'

export const EVERYONE_GROUP_ID = 'grp_everyone'
