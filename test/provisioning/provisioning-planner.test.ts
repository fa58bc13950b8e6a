import type { AppUserStatus } from '../../src/apps/app-user-rules'
import type { UserProvisioningCapabilities } from '../../src/apps/features'
import { ProvisioningPlanner, type PlannedAppUser } from '../../src/provisioning/provisioning-plan'
import type { ScimUser } from '../../src/provisioning/scim-client'
import { toScimUser } from '../../src/provisioning/scim-mapping'

// The planner, cell by cell: each situation of an app user and its downstream account, under each
// capability switched off in turn. The cells are written out from domain.md 6.2 and api.md.

const PROFILE = {
  login: 'ada@example.com',
  email: 'ada@example.com',
  firstName: 'Ada',
  lastName: 'Lovelace',
  displayName: null,
  title: 'Analyst',
  department: null,
  employeeNumber: null,
  managerId: null,
}

function appUser(status: AppUserStatus, externalId: string | null, id = 'au1'): PlannedAppUser {
  return { id, userId: `user-of-${id}`, status, externalId, user: { id: `user-of-${id}`, ...PROFILE } }
}

/** The account a run left downstream for the user (what the mapping sends), with the edits given. */
function account(id: string, edits: Record<string, unknown> = {}): ScimUser {
  const user = appUser('PROVISIONED', id).user
  return { ...toScimUser({ ...user, active: true }), id, ...edits } as unknown as ScimUser
}

type Situation = { appUser: PlannedAppUser; downstream: ScimUser[] }

const SITUATIONS: Record<string, Situation> = {
  'unlinked, no account downstream': { appUser: appUser('STAGED', null), downstream: [] },
  'unlinked, an account with its userName in another case': {
    appUser: appUser('STAGED', null),
    downstream: [account('acc1', { userName: 'ADA@example.com', externalId: undefined })],
  },
  'unlinked and deprovisioned': { appUser: appUser('DEPROVISIONED', null), downstream: [] },
  'linked, account as pushed': { appUser: appUser('PROVISIONED', 'acc1'), downstream: [account('acc1')] },
  'linked, account changed by hand': {
    appUser: appUser('PROVISIONED', 'acc1'),
    downstream: [account('acc1', { title: 'Countess' })],
  },
  'linked, account inactive downstream': {
    appUser: appUser('PROVISIONED', 'acc1'),
    downstream: [account('acc1', { active: false })],
  },
  'deprovisioned, account still active': {
    appUser: appUser('DEPROVISIONED', 'acc1'),
    downstream: [account('acc1')],
  },
  'deprovisioned, account inactive': {
    appUser: appUser('DEPROVISIONED', 'acc1'),
    downstream: [account('acc1', { active: false })],
  },
  'linked, account gone downstream': { appUser: appUser('PROVISIONED', 'acc1'), downstream: [] },
}

const ON = { status: 'ENABLED' as const }
const OFF = { status: 'DISABLED' as const }
function capabilities(off: 'create' | 'profile' | 'deactivate' | null): UserProvisioningCapabilities {
  return {
    create: { lifecycleCreate: off === 'create' ? OFF : ON },
    update: {
      profile: off === 'profile' ? OFF : ON,
      lifecycleDeactivate: off === 'deactivate' ? OFF : ON,
      password: { status: 'DISABLED', seed: 'RANDOM', change: 'KEEP_EXISTING' },
    },
  }
}
const COLUMNS = [null, 'create', 'profile', 'deactivate'] as const

/** Expected action per situation; columns: all on, create off, profile off, deactivate off. */
const EXPECTED: Record<keyof typeof SITUATIONS, string> = {
  'unlinked, no account downstream': '                        CREATE     NONE       CREATE     CREATE',
  'unlinked, an account with its userName in another case': ' LINK       NONE       LINK       LINK',
  'unlinked and deprovisioned': '                             NONE       NONE       NONE       NONE',
  'linked, account as pushed': '                              NONE       NONE       NONE       NONE',
  'linked, account changed by hand': '                        UPDATE     UPDATE     NONE       UPDATE',
  // Deactivate off: no PATCH, but the profile push (PUT, active true) re-enables the account.
  'linked, account inactive downstream': '                    REACTIVATE REACTIVATE REACTIVATE UPDATE',
  'deprovisioned, account still active': '                    DEACTIVATE DEACTIVATE DEACTIVATE NONE',
  'deprovisioned, account inactive': '                        NONE       NONE       NONE       NONE',
  'linked, account gone downstream': '                        NONE       NONE       NONE       NONE',
}

const cells = Object.entries(SITUATIONS).flatMap(([name, situation]) =>
  COLUMNS.map((off, column) => ({
    name,
    off: off ?? 'nothing',
    situation,
    capabilities: capabilities(off),
    expected: EXPECTED[name].trim().split(/\s+/)[column],
  })),
)

function plan(appUsers: PlannedAppUser[], pages: ScimUser[][], caps = capabilities(null)) {
  const planner = new ProvisioningPlanner(appUsers, caps)
  for (const page of pages) planner.read(page)
  return planner.plan()
}

test.each(cells)('$name, $off switched off: $expected', ({ situation, capabilities: caps, expected }) => {
  const [action] = plan([situation.appUser], [situation.downstream], caps).actions
  expect(action.action).toBe(expected)
  expect(action.reason).not.toBe('')
})

test('drift shows the attributes changed by hand, from theirs to ours', () => {
  const drifted = account('acc1', { title: 'Countess', name: { givenName: 'Augusta', familyName: 'Lovelace' } })
  const [action] = plan([appUser('PROVISIONED', 'acc1')], [[drifted]]).actions
  expect(action).toMatchObject({ action: 'UPDATE', downstream: { id: 'acc1', userName: PROFILE.login, active: true } })
  expect(action.changes).toEqual([
    { attribute: 'name.givenName', from: 'Augusta', to: 'Ada' },
    { attribute: 'title', from: 'Countess', to: 'Analyst' },
  ])
})

test('a create lists what it would send; a link lists what it would overwrite', () => {
  const [create] = plan([appUser('STAGED', null)], [[]]).actions
  expect(create).toMatchObject({ action: 'CREATE', downstream: null })
  expect(create.changes).toContainEqual({ attribute: 'userName', from: null, to: PROFILE.login })
  expect(create.changes).toContainEqual({ attribute: 'active', from: null, to: true })

  const handMade = { id: 'acc9', userName: 'Ada@Example.com', active: true } as ScimUser
  const [link] = plan([appUser('STAGED', null)], [[handMade]]).actions
  expect(link).toMatchObject({ action: 'LINK', downstream: { id: 'acc9', userName: 'Ada@Example.com' } })
  expect(link.changes).toContainEqual({ attribute: 'externalId', from: null, to: 'user-of-au1' })
  expect(link.changes.map((change) => change.attribute)).not.toContain('userName')
})

test('accounts are matched across pages; those no app user is (or would be) linked to are orphaned', () => {
  const linked = appUser('PROVISIONED', 'acc1', 'au1')
  const toLink = {
    ...appUser('STAGED', null, 'au2'),
    user: { ...PROFILE, id: 'user-of-au2', login: 'bob@example.com' },
  }
  // Create switched off: the matching account is not linked, so it stays orphaned.
  const notLinked = {
    ...appUser('STAGED', null, 'au3'),
    user: { ...PROFILE, id: 'user-of-au3', login: 'eve@example.com' },
  }
  const pages = [
    [account('stray1', { userName: 'stray1' }), { id: 'acc2', userName: 'BOB@example.com' } as ScimUser],
    [account('acc1'), { id: 'acc3', userName: 'eve@example.com' } as ScimUser, account('stray2', { userName: 's2' })],
  ]
  const all = plan([linked, toLink, notLinked], pages)
  expect(all.actions.map((action) => action.action)).toEqual(['NONE', 'LINK', 'LINK'])
  expect(all.counts).toEqual({ create: 0, link: 2, update: 0, deactivate: 0, reactivate: 0, unchanged: 1, orphaned: 2 })

  const createOff = plan([linked, toLink, notLinked], pages, capabilities('create'))
  expect(createOff.counts).toMatchObject({ link: 0, unchanged: 3, orphaned: 4 })
})

test('the counts add up to the app users, whatever the mix', () => {
  const appUsers = [
    appUser('STAGED', null, 'a'),
    appUser('PROVISIONED', 'x', 'b'),
    appUser('PROVISIONED', 'y', 'c'),
    appUser('DEPROVISIONED', 'z', 'd'),
  ]
  const { counts } = plan(appUsers, [[account('x', { title: 'other' }), account('y', { active: false }), account('z')]])
  expect(counts).toEqual({ create: 1, link: 0, update: 1, deactivate: 1, reactivate: 1, unchanged: 0, orphaned: 0 })
})
