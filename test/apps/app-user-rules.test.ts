import {
  isWithdrawn,
  onJobStopped,
  onGrant,
  onPasswordChange,
  onProfileChange,
  onRevoke,
  type AppUserStatus,
  type SyncState,
} from '../../src/apps/app-user-rules'

/** The app-user rules as a table (domain.md 3.2-3.3), checked without a database. */
const NONE = { pushes: false, deactivates: false, pushesProfile: false, pushesPasswordChanges: false }
const SSO_ONLY = NONE
const PUSHES = { ...NONE, pushes: true }
const DEACTIVATES = { ...NONE, pushes: true, deactivates: true }
const PUSHES_PROFILE = { ...NONE, pushes: true, pushesProfile: true }
const PUSHES_PASSWORDS = { ...NONE, pushes: true, pushesPasswordChanges: true }

describe('a user gains an app', () => {
  test('without provisioning the app user is ACTIVE at once, with sync DISABLED and no job', () => {
    expect(onGrant(SSO_ONLY, null)).toEqual({ status: 'ACTIVE', syncState: 'DISABLED', job: null })
    expect(onGrant(SSO_ONLY, { externalId: 'ext-1' })).toEqual({ status: 'ACTIVE', syncState: 'DISABLED', job: null })
  })

  test('with provisioning a new app user is STAGED, OUT_OF_SYNC, with a CREATE job', () => {
    expect(onGrant(PUSHES, null)).toEqual({ status: 'STAGED', syncState: 'OUT_OF_SYNC', job: 'CREATE' })
    expect(onGrant(PUSHES, { externalId: null })).toEqual({ status: 'STAGED', syncState: 'OUT_OF_SYNC', job: 'CREATE' })
  })

  test('with provisioning a revived app user whose account exists downstream is re-enabled (REACTIVATE), not created again', () => {
    expect(onGrant(PUSHES, { externalId: 'ext-1' })).toEqual({
      status: 'STAGED',
      syncState: 'OUT_OF_SYNC',
      job: 'REACTIVATE',
    })
  })
})

describe('a user loses the last grant of an app', () => {
  const states: SyncState[] = ['DISABLED', 'OUT_OF_SYNC', 'SYNCING', 'SYNCHRONIZED', 'ERROR']

  test.each(states)('without provisioning it is DEPROVISIONED with sync DISABLED and no job (was %s)', (syncState) => {
    expect(onRevoke(SSO_ONLY, { externalId: null, syncState })).toEqual({
      status: 'DEPROVISIONED',
      syncState: 'DISABLED',
      job: null,
    })
    expect(onRevoke(SSO_ONLY, { externalId: 'ext-1', syncState })).toEqual({
      status: 'DEPROVISIONED',
      syncState: 'DISABLED',
      job: null,
    })
  })

  test.each(states)(
    'with provisioning but no deactivation it is DEPROVISIONED, keeping its sync state (%s) and queuing nothing',
    (syncState) => {
      expect(onRevoke(PUSHES, { externalId: 'ext-1', syncState })).toEqual({
        status: 'DEPROVISIONED',
        syncState,
        job: null,
      })
    },
  )

  test('with deactivation and a downstream account it is DEPROVISIONED, OUT_OF_SYNC, with a DEACTIVATE job', () => {
    expect(onRevoke(DEACTIVATES, { externalId: 'ext-1', syncState: 'SYNCHRONIZED' })).toEqual({
      status: 'DEPROVISIONED',
      syncState: 'OUT_OF_SYNC',
      job: 'DEACTIVATE',
    })
  })

  test('with deactivation but no downstream account there is nothing to deactivate', () => {
    expect(onRevoke(DEACTIVATES, { externalId: null, syncState: 'ERROR' })).toEqual({
      status: 'DEPROVISIONED',
      syncState: 'ERROR',
      job: null,
    })
  })
})

describe("a user's profile changes", () => {
  const live: AppUserStatus[] = ['STAGED', 'PROVISIONED', 'ACTIVE', 'INACTIVE']

  test.each(live)(
    'an app that pushes profiles queues an UPDATE for a linked %s app user, keeping its status',
    (status) => {
      expect(onProfileChange(PUSHES_PROFILE, { status, externalId: 'ext-1' })).toEqual({
        status,
        syncState: 'OUT_OF_SYNC',
        job: 'UPDATE',
      })
    },
  )

  test('nothing is pushed for a DEPROVISIONED app user, one not linked downstream, or an app that does not push profiles', () => {
    expect(onProfileChange(PUSHES_PROFILE, { status: 'DEPROVISIONED', externalId: 'ext-1' })).toBeNull()
    expect(onProfileChange(PUSHES_PROFILE, { status: 'ACTIVE', externalId: null })).toBeNull()
    expect(onProfileChange(PUSHES, { status: 'ACTIVE', externalId: 'ext-1' })).toBeNull()
    expect(onProfileChange(SSO_ONLY, { status: 'ACTIVE', externalId: 'ext-1' })).toBeNull()
  })
})

describe("a user's password is set or changed", () => {
  const live: AppUserStatus[] = ['STAGED', 'PROVISIONED', 'ACTIVE', 'INACTIVE']
  const linked = { syncState: 'SYNCHRONIZED' as const, externalId: 'ext-1', createPending: false }

  test.each(live)('an app that pushes password changes queues a PASSWORD for a linked %s app user', (status) => {
    expect(onPasswordChange(PUSHES_PASSWORDS, { status, ...linked })).toEqual({
      status,
      syncState: 'OUT_OF_SYNC',
      job: 'PASSWORD',
    })
  })

  test('an app user whose create is still pending gets a PASSWORD after it, its sync state kept', () => {
    expect(
      onPasswordChange(PUSHES_PASSWORDS, {
        status: 'STAGED',
        syncState: 'SYNCING',
        externalId: null,
        createPending: true,
      }),
    ).toEqual({ status: 'STAGED', syncState: 'SYNCING', job: 'PASSWORD' })
  })

  test('nothing is pushed when DEPROVISIONED, with no account and no create pending, or when the app does not push password changes', () => {
    expect(onPasswordChange(PUSHES_PASSWORDS, { status: 'DEPROVISIONED', ...linked })).toBeNull()
    expect(
      onPasswordChange(PUSHES_PASSWORDS, {
        status: 'STAGED',
        syncState: 'ERROR',
        externalId: null,
        createPending: false,
      }),
    ).toBeNull()
    expect(onPasswordChange(PUSHES_PROFILE, { status: 'ACTIVE', ...linked })).toBeNull()
    expect(onPasswordChange(SSO_ONLY, { status: 'ACTIVE', ...linked })).toBeNull()
  })
})

describe('a job stops short of success', () => {
  test.each([
    ['a failure', 'CREATE', 'STAGED', 'SYNCING', 'FAILED', 'STAGED', 'ERROR'],
    [
      'a failure keeps a DEPROVISIONED status',
      'DEACTIVATE',
      'DEPROVISIONED',
      'OUT_OF_SYNC',
      'FAILED',
      'DEPROVISIONED',
      'ERROR',
    ],
    ['a retry waits', 'CREATE', 'STAGED', 'SYNCING', 'RETRY_SCHEDULED', 'STAGED', 'OUT_OF_SYNC'],
    [
      'a retry keeps an ERROR it did not cause',
      'UPDATE',
      'PROVISIONED',
      'ERROR',
      'RETRY_SCHEDULED',
      'PROVISIONED',
      'ERROR',
    ],
    [
      'a skipped reactivation still provisions (the account exists)',
      'REACTIVATE',
      'STAGED',
      'SYNCING',
      'SKIPPED',
      'PROVISIONED',
      'OUT_OF_SYNC',
    ],
    ['a skipped update changes no status', 'UPDATE', 'PROVISIONED', 'SYNCING', 'SKIPPED', 'PROVISIONED', 'OUT_OF_SYNC'],
    [
      'a withdrawn create of an app user that lost the app leaves it DEPROVISIONED, waiting',
      'CREATE',
      'DEPROVISIONED',
      'SYNCING',
      'WITHDRAWN',
      'DEPROVISIONED',
      'OUT_OF_SYNC',
    ],
    [
      'a withdrawn create of an app user assigned again since stays STAGED: nothing was sent',
      'CREATE',
      'STAGED',
      'OUT_OF_SYNC',
      'WITHDRAWN',
      'STAGED',
      'OUT_OF_SYNC',
    ],
    [
      'a create handed back to the queue unsent (its app was paused) keeps STAGED and waits',
      'CREATE',
      'STAGED',
      'SYNCING',
      'HANDED_BACK',
      'STAGED',
      'OUT_OF_SYNC',
    ],
    [
      'a withdrawn reactivation of an app user assigned again since stays STAGED: the account is still disabled',
      'REACTIVATE',
      'STAGED',
      'SYNCING',
      'WITHDRAWN',
      'STAGED',
      'OUT_OF_SYNC',
    ],
  ] as const)('%s', (_case, job, status, syncState, how, nextStatus, nextSyncState) => {
    expect(onJobStopped(DEACTIVATES, job, { status, syncState }, how)).toEqual({
      status: nextStatus,
      syncState: nextSyncState,
      job: null,
    })
  })
})

describe('a job claimed but not yet sent, once its app user lost the app', () => {
  test.each(['CREATE', 'REACTIVATE', 'UPDATE', 'PASSWORD'] as const)(
    'a %s for a DEPROVISIONED app user is withdrawn unsent',
    (job) => expect(isWithdrawn(job, { status: 'DEPROVISIONED' })).toBe(true),
  )

  test('the deactivation a DEPROVISIONED app user is owed is still sent', () => {
    expect(isWithdrawn('DEACTIVATE', { status: 'DEPROVISIONED' })).toBe(false)
  })

  test.each(['STAGED', 'PROVISIONED', 'ACTIVE', 'INACTIVE'] as const)(
    'no job of a %s app user is withdrawn',
    (status) => {
      for (const job of ['CREATE', 'REACTIVATE', 'UPDATE', 'PASSWORD', 'DEACTIVATE'] as const)
        expect(isWithdrawn(job, { status })).toBe(false)
    },
  )

  test('every job of an app user that is gone is withdrawn', () => {
    for (const job of ['CREATE', 'REACTIVATE', 'UPDATE', 'PASSWORD', 'DEACTIVATE'] as const)
      expect(isWithdrawn(job, null)).toBe(true)
  })
})
