import { queuePasswordPush, queueProfilePush, syncAppUsers } from '../apps/app-user-sync'
import { directAssignmentRows } from '../apps/direct-assignment-rows'
import type { Actor } from '../events/event-log'
import { EVERYONE_GROUP_ID, writeMemberships } from '../groups/group-membership'
import { applyGroupRules, ruleTarget } from '../groups/rule-engine'
import type { SecretBox } from '../provisioning/secrets'
import type { FollowFacts, UnitOfWork } from '../store/transaction'
import type { Fact } from './facts'

/**
 * What follows from a change, in the same transaction as the change (domain.md 1.6, 2.1, 3.3, 8).
 * The one place that answers "what happens when …":
 *
 * | fact                         | what follows                                                                  |
 * |------------------------------|-------------------------------------------------------------------------------|
 * | users created                | join Everyone; rules run on the new profile; group apps are granted          |
 * | status → DEPROVISIONED       | direct grants on ACTIVE apps deleted; every app user of an ACTIVE app revoked  |
 * |                              | (deprovisioning per app); memberships and INACTIVE apps' assignments kept     |
 * | status DEPROVISIONED → other | rules re-run; group-based app users recreated                                 |
 * | any other status change      | nothing (suspension keeps assignments and sends nothing downstream)           |
 * | profile changed              | rules re-run; grants follow; profile pushes queued                            |
 * | password set or changed      | password pushes queued, sealed (apps with seed OKTA and change CHANGE)       |
 * | memberships changed          | rules reading memberships re-run; grants follow                               |
 * | grants changed (users, apps) | app users reconciled (jobs queued in the outbox)                              |
 * | rule activated               | evaluated over every user; grants of the users it moved follow               |
 *
 * Composed once per process (src/app.ts) with what the followers need beyond the unit of work.
 */
export function followFactsWith(dependencies: CascadeDependencies): FollowFacts {
  const follow = followers(dependencies)
  return async (unit, facts) => {
    for (const fact of facts) await follow[fact.kind](unit, fact as never)
  }
}

export interface CascadeDependencies {
  /** Seals a password into the jobs that push it (the application's SecretBox). */
  secrets: Pick<SecretBox, 'configured' | 'seal'>
}

type Follower<K extends Fact['kind']> = (unit: UnitOfWork, fact: Extract<Fact, { kind: K }>) => Promise<void>

async function membershipsChanged(unit: UnitOfWork, userIds: string[], actor: Actor, users?: 'new'): Promise<void> {
  const moved = await applyGroupRules(unit, { userIds }, actor)
  await syncAppUsers(unit, { userIds: [...new Set([...userIds, ...moved])], users }, actor)
}

const followers = ({ secrets }: CascadeDependencies): { [K in Fact['kind']]: Follower<K> } => ({
  async usersCreated(unit, { users, actor }) {
    await writeMemberships(
      unit,
      { added: users.map((user) => ({ groupId: EVERYONE_GROUP_ID, userId: user.id, ruleId: null })), removed: [] },
      actor,
      {
        groupNames: new Map([[EVERYONE_GROUP_ID, 'Everyone']]),
        logins: new Map(users.map((user) => [user.id, user.login])),
      },
    )
    await membershipsChanged(
      unit,
      users.map((user) => user.id),
      actor,
      'new',
    )
  },

  async statusChanged(unit, { user, from, to, actor }) {
    if (to === 'DEPROVISIONED') {
      await directAssignmentRows.deleteOnActiveApps(unit.sql, user.id)
      await syncAppUsers(unit, { userIds: [user.id], users: 'deactivated' }, actor)
    } else if (from === 'DEPROVISIONED') {
      await membershipsChanged(unit, [user.id], actor)
    }
  },

  async profileChanged(unit, { user, actor }) {
    await membershipsChanged(unit, [user.id], actor)
    await queueProfilePush(unit, user.id)
  },

  async passwordChanged(unit, { userId, password }) {
    // Without a key a "sealed" password would be stored in clear: nothing is pushed (and the
    // OKTA seed cannot be set; an app that kept it from a keyed start pushes nothing).
    if (!secrets.configured) return
    await queuePasswordPush(unit, userId, () => secrets.seal(password))
  },

  membershipsChanged: (unit, { userIds, actor }) => membershipsChanged(unit, userIds, actor),

  async grantsChanged(unit, { userIds, actor }) {
    await syncAppUsers(unit, { userIds }, actor)
  },

  async appGrantsChanged(unit, { appIds, actor }) {
    await syncAppUsers(unit, { appIds }, actor)
  },

  async ruleActivated(unit, { rule, actor }) {
    const moved = await applyGroupRules(unit, 'everyone', actor)
    await syncAppUsers(unit, { userIds: moved }, actor)
    unit.record({
      type: 'group.user_membership.rule.evaluation',
      actor,
      targets: [ruleTarget(rule)],
      data: { usersMoved: moved.length },
    })
  },
})
