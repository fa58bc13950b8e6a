import { queueProfilePush, syncAppUsers } from './apps/app-user-sync'
import { directAssignmentRows } from './apps/direct-assignment-rows'
import type { Actor } from './events/event-log'
import type { User } from './generated/prisma/client'
import { EVERYONE_GROUP_ID, writeMemberships } from './groups/group-membership'
import { applyGroupRules } from './groups/rule-engine'
import type { UnitOfWork } from './store/transaction'
import type { UserStatus } from './users/status-machine'

/**
 * What follows from a change, in the same transaction as the change (domain.md 1.6, 2.1, 3.3, 8):
 * - memberships change -> group rules that read memberships re-run -> app grants follow;
 * - a new user joins Everyone, rules run on the new profile, group apps are granted;
 * - deactivation removes every app user of an ACTIVE app (deprovisioning per app) and the direct
 *   grants on ACTIVE apps; INACTIVE apps' assignments and group memberships are kept; suspension
 *   changes nothing;
 * - reactivation (from DEPROVISIONED) re-runs rules and recreates group-based app users;
 * - a profile change re-runs rules and queues profile pushes.
 */
export const cascades = {
  async membershipsChanged(unit: UnitOfWork, userIds: string[], actor: Actor, users?: 'new'): Promise<void> {
    const moved = await applyGroupRules(unit, { userIds }, actor)
    await syncAppUsers(unit, { userIds: [...new Set([...userIds, ...moved])], users }, actor)
  },

  async userCreated(unit: UnitOfWork, user: User, actor: Actor): Promise<void> {
    await writeMemberships(unit, { added: [{ groupId: EVERYONE_GROUP_ID, userId: user.id, ruleId: null }], removed: [] }, actor, {
      groupNames: new Map([[EVERYONE_GROUP_ID, 'Everyone']]),
      logins: new Map([[user.id, user.login]]),
    })
    await cascades.membershipsChanged(unit, [user.id], actor, 'new')
  },

  async statusChanged(unit: UnitOfWork, user: User, from: UserStatus, to: UserStatus, actor: Actor): Promise<void> {
    if (to === 'DEPROVISIONED') {
      await directAssignmentRows.deleteOnActiveApps(unit.sql, user.id)
      await syncAppUsers(unit, { userIds: [user.id], users: 'deactivated' }, actor)
    } else if (from === 'DEPROVISIONED') {
      await cascades.membershipsChanged(unit, [user.id], actor)
    }
  },

  async profileChanged(unit: UnitOfWork, user: User, actor: Actor): Promise<void> {
    await cascades.membershipsChanged(unit, [user.id], actor)
    await queueProfilePush(unit, user.id)
  },
}

export type Cascades = typeof cascades
