import { queuePasswordPush, queueProfilePush, syncAppUsers } from '../../src/apps/app-user-sync'
import { directAssignmentRows } from '../../src/apps/direct-assignment-rows'
import type { Fact } from '../../src/cascades/facts'
import { followFactsWith } from '../../src/cascades/follow'
import type { Actor } from '../../src/events/event-log'
import type { GroupRule, User } from '../../src/generated/prisma/client'
import { writeMemberships } from '../../src/groups/group-membership'
import { applyGroupRules } from '../../src/groups/rule-engine'
import type { UnitOfWork } from '../../src/store/transaction'
import { USER_STATUSES, type UserStatus } from '../../src/users/status-machine'

/**
 * The table of what follows each fact (src/cascades/follow.ts), without a database: the writes it
 * calls are replaced by recorders, so each test states exactly which writes follow, in which
 * order and with which arguments, and that nothing else does. What each write does to the rows
 * is tested with them (app-user sync, group rules, memberships).
 */
jest.mock('../../src/apps/app-user-sync', () => ({
  syncAppUsers: jest.fn(),
  queueProfilePush: jest.fn(),
  queuePasswordPush: jest.fn(),
}))
jest.mock('../../src/apps/direct-assignment-rows', () => ({ directAssignmentRows: { deleteOnActiveApps: jest.fn() } }))
jest.mock('../../src/groups/group-membership', () => ({
  ...jest.requireActual('../../src/groups/group-membership'),
  writeMemberships: jest.fn(),
}))
jest.mock('../../src/groups/rule-engine', () => ({
  ...jest.requireActual('../../src/groups/rule-engine'),
  applyGroupRules: jest.fn(),
}))

const actor: Actor = { id: 'tok_admin', type: 'ApiToken', displayName: 'admin' }
const user = { id: 'usr_ada', login: 'ada@example.com' } as User
const rule = { id: 'grr_engineers', name: 'Engineers' } as GroupRule

/** Every write that followed, in order, as [what, ...arguments] (the unit itself is left out). */
let writes: unknown[][]
/** The users the group rules move when they next run. */
let rulesMove: string[][]
let unit: UnitOfWork

/** Records a call after a turn of the event loop, so a follower that did not await it would let later writes overtake it. */
const recorder =
  (name: string, returns: () => unknown = () => undefined) =>
  async (first: unknown, ...rest: unknown[]) => {
    writes.push([name, ...(first === unit ? [] : [first]), ...rest])
    await new Promise((resolve) => setImmediate(resolve))
    return returns()
  }

beforeEach(() => {
  writes = []
  rulesMove = []
  unit = {
    sql: { query: (...args: unknown[]) => void writes.push(['sql', ...args]) },
    record: (...events: unknown[]) => void writes.push(['event', ...events]),
  } as unknown as UnitOfWork
  jest
    .mocked(syncAppUsers)
    .mockImplementation(recorder('syncAppUsers', () => ({ granted: [], revoked: [] })) as typeof syncAppUsers)
  jest.mocked(queueProfilePush).mockImplementation(recorder('queueProfilePush') as typeof queueProfilePush)
  // The sealer is called, so the recorded write shows what the job would carry.
  jest.mocked(queuePasswordPush).mockImplementation(async (_unit, userId, sealed) => {
    writes.push(['queuePasswordPush', userId, sealed()])
  })
  jest.mocked(writeMemberships).mockImplementation(recorder('writeMemberships') as typeof writeMemberships)
  jest
    .mocked(applyGroupRules)
    .mockImplementation(recorder('applyGroupRules', () => rulesMove.shift() ?? []) as typeof applyGroupRules)
  jest.mocked(directAssignmentRows.deleteOnActiveApps).mockImplementation(async (sql, userId) => {
    writes.push(['deleteDirectGrantsOnActiveApps', sql === unit.sql ? 'in the unit' : 'elsewhere', userId])
  })
})

/** A stand-in for the application's SecretBox: what it seals is recognisable, and never the clear value. */
const box = { configured: true, seal: (plain: string) => `sealed(${plain.length} chars)` }
const follow = (...facts: Fact[]) => followFactsWith({ secrets: box })(unit, facts)
const statusChanged = (from: UserStatus, to: UserStatus): Fact => ({ kind: 'statusChanged', user, from, to, actor })

describe('a user is created', () => {
  test('a new user joins Everyone, then the rules run on them and their apps are granted as a new user', async () => {
    rulesMove = [['usr_ada']]
    await follow({ kind: 'usersCreated', users: [user], actor })
    expect(writes).toEqual([
      [
        'writeMemberships',
        { added: [{ groupId: 'grp_everyone', userId: 'usr_ada', ruleId: null }], removed: [] },
        actor,
        { groupNames: new Map([['grp_everyone', 'Everyone']]), logins: new Map([['usr_ada', 'ada@example.com']]) },
      ],
      ['applyGroupRules', { userIds: ['usr_ada'] }, actor],
      ['syncAppUsers', { userIds: ['usr_ada'], users: 'new' }, actor],
    ])
  })
})

describe('a status changes', () => {
  test('deactivating a user deletes their direct grants on active apps and revokes their app users, keeping memberships', async () => {
    await follow(statusChanged('ACTIVE', 'DEPROVISIONED'))
    expect(writes).toEqual([
      ['deleteDirectGrantsOnActiveApps', 'in the unit', 'usr_ada'],
      ['syncAppUsers', { userIds: ['usr_ada'], users: 'deactivated' }, actor],
    ])
  })

  test('deactivating a suspended or staged user has the same consequences', async () => {
    for (const from of ['SUSPENDED', 'STAGED'] as const) {
      writes = []
      await follow(statusChanged(from, 'DEPROVISIONED'))
      expect(writes.map(([what]) => what)).toEqual(['deleteDirectGrantsOnActiveApps', 'syncAppUsers'])
    }
  })

  test('suspending a user sets nothing off: assignments stay and nothing is sent downstream', async () => {
    await follow(statusChanged('ACTIVE', 'SUSPENDED'))
    expect(writes).toEqual([])
  })

  test('no change between two statuses other than DEPROVISIONED sets anything off (unsuspend, lock, expire, activate)', async () => {
    const others = USER_STATUSES.filter((status) => status !== 'DEPROVISIONED')
    for (const from of others) for (const to of others) await follow(statusChanged(from, to))
    expect(writes).toEqual([])
  })

  test('reactivating a deactivated user re-runs the rules, then grants the apps of the user and of everyone the rules moved', async () => {
    rulesMove = [['usr_ada', 'usr_bob']]
    await follow(statusChanged('DEPROVISIONED', 'PROVISIONED'))
    expect(writes).toEqual([
      ['applyGroupRules', { userIds: ['usr_ada'] }, actor],
      ['syncAppUsers', { userIds: ['usr_ada', 'usr_bob'] }, actor],
    ])
    const [, scope] = writes[1] as [string, { users?: string }]
    expect(scope.users).toBeUndefined()
  })
})

describe('a profile changes', () => {
  test("the rules re-run on the new profile, grants follow, and a profile push is queued for the user's apps", async () => {
    rulesMove = [['usr_bob']]
    await follow({ kind: 'profileChanged', user, actor })
    expect(writes).toEqual([
      ['applyGroupRules', { userIds: ['usr_ada'] }, actor],
      ['syncAppUsers', { userIds: ['usr_ada', 'usr_bob'] }, actor],
      ['queueProfilePush', 'usr_ada'],
    ])
  })
})

describe('a password is set or changed', () => {
  test('password pushes are queued for the user, sealed with the secret box, and nothing else follows', async () => {
    await follow({ kind: 'passwordChanged', userId: 'usr_ada', password: 'correct horse' })
    expect(writes).toEqual([['queuePasswordPush', 'usr_ada', 'sealed(13 chars)']])
  })

  test('without a secret key nothing is queued: the password would be stored in clear', async () => {
    await followFactsWith({ secrets: { configured: false, seal: (plain) => plain } })(unit, [
      { kind: 'passwordChanged', userId: 'usr_ada', password: 'correct horse' },
    ])
    expect(writes).toEqual([])
  })
})

describe('memberships change', () => {
  test('rules reading memberships re-run for those users, then the grants of those users and of the ones the rules moved follow, each once', async () => {
    rulesMove = [['usr_bob', 'usr_cy']]
    await follow({ kind: 'membershipsChanged', userIds: ['usr_ada', 'usr_bob'], actor })
    expect(writes).toEqual([
      ['applyGroupRules', { userIds: ['usr_ada', 'usr_bob'] }, actor],
      ['syncAppUsers', { userIds: ['usr_ada', 'usr_bob', 'usr_cy'] }, actor],
    ])
  })
})

describe('grants change', () => {
  test("a user's direct assignment reconciles only that user's app users; no rule runs", async () => {
    await follow({ kind: 'grantsChanged', userIds: ['usr_ada'], actor })
    expect(writes).toEqual([['syncAppUsers', { userIds: ['usr_ada'] }, actor]])
  })

  test("an app's group assignments or status reconcile that app's app users; no rule runs", async () => {
    await follow({ kind: 'appGrantsChanged', appIds: ['app_wiki'], actor })
    expect(writes).toEqual([['syncAppUsers', { appIds: ['app_wiki'] }, actor]])
  })
})

describe('a rule is activated', () => {
  test('it is evaluated over everyone, the users it moved get their apps, and one evaluation event counts them', async () => {
    rulesMove = [['usr_ada', 'usr_bob']]
    await follow({ kind: 'ruleActivated', rule, actor })
    expect(writes).toEqual([
      ['applyGroupRules', 'everyone', actor],
      ['syncAppUsers', { userIds: ['usr_ada', 'usr_bob'] }, actor],
      [
        'event',
        {
          type: 'group.user_membership.rule.evaluation',
          actor,
          targets: [{ id: 'grr_engineers', type: 'GroupRule', displayName: 'Engineers' }],
          data: { usersMoved: 2 },
        },
      ],
    ])
  })
})

describe('several facts', () => {
  test('facts are followed one after the other, in the order they were recorded', async () => {
    await follow(
      { kind: 'grantsChanged', userIds: ['usr_bob'], actor },
      { kind: 'profileChanged', user, actor },
      statusChanged('ACTIVE', 'DEPROVISIONED'),
    )
    expect(writes.map(([what]) => what)).toEqual([
      'syncAppUsers',
      'applyGroupRules',
      'syncAppUsers',
      'queueProfilePush',
      'deleteDirectGrantsOnActiveApps',
      'syncAppUsers',
    ])
  })

  test('a write that fails stops the facts after it, so the use case rolls back', async () => {
    jest.mocked(applyGroupRules).mockRejectedValueOnce(new Error('serialization failure'))
    await expect(
      follow({ kind: 'profileChanged', user, actor }, { kind: 'grantsChanged', userIds: ['usr_bob'], actor }),
    ).rejects.toThrow('serialization failure')
    expect(writes).toEqual([])
  })
})
