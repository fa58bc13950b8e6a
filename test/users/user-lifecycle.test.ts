import { clockPasses } from '../support/clock'
import { startTestServer, type TestServer } from '../support/harness'
import { createUser, eventsFor, getUser, lifecycle } from '../support/users'

let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

const PASSWORD = 'correct horse battery'

async function setPassword(token: string, password = PASSWORD) {
  const response = await api.gql(
    `mutation($input: SetPasswordInput!) { setPassword(input: $input) { user { id status activated statusChanged lastUpdated passwordChanged credentials { hasPassword } } userErrors { code field } } }`,
    { input: { token, password } },
  )
  return response.data.setPassword
}

describe('creating users', () => {
  test('creating without a password activates to PROVISIONED and returns an activation token', async () => {
    const { user, activationToken, userErrors } = await createUser(api)
    expect(userErrors).toEqual([])
    expect(user.status).toBe('PROVISIONED')
    expect(user.credentials.hasPassword).toBe(false)
    expect(activationToken).toEqual(expect.any(String))
    expect(user.activated).toBeNull()
  })

  test('creating with a password activates to ACTIVE with activated and passwordChanged set', async () => {
    const { user, activationToken } = await createUser(api, { password: PASSWORD })
    expect(user.status).toBe('ACTIVE')
    expect(activationToken).toBeNull()
    // Created, activated and given its password in one transaction: one instant for all of them.
    expect(user.created).toEqual(expect.any(String))
    for (const stamp of [user.activated, user.passwordChanged, user.statusChanged, user.lastUpdated])
      expect(stamp).toBe(user.created)
  })

  test('creating with activate: false stages the user, with or without a password', async () => {
    const bare = await createUser(api, { activate: false })
    const withPassword = await createUser(api, { activate: false, password: PASSWORD })
    expect(bare.user.status).toBe('STAGED')
    expect(withPassword.user.status).toBe('STAGED')
    expect(withPassword.user.credentials.hasPassword).toBe(true)
    expect(bare.activationToken).toBeNull()
  })

  test('creation writes user.lifecycle.create then user.lifecycle.activate with the actor token', async () => {
    const { user } = await createUser(api)
    const events = (await eventsFor(api, user.id)).filter((event: any) => event.type.startsWith('user.'))
    expect(events.map((event: any) => event.type)).toEqual(['user.lifecycle.create', 'user.lifecycle.activate'])
    expect(events[1].data).toMatchObject({ previousStatus: 'STAGED', status: 'PROVISIONED' })
    expect(events[0].actor.type).toBe('ApiToken')
    expect(events[0].sequence).toBeLessThan(events[1].sequence)
  })
})

describe('activation', () => {
  test('activating a staged user without a password makes it PROVISIONED and setting a password makes it ACTIVE', async () => {
    const { user } = await createUser(api, { activate: false })
    const activated = await lifecycle(api, 'activateUser', user.id, {}, 'activationToken')
    expect(activated.user.status).toBe('PROVISIONED')
    expect(activated.activationToken).toEqual(expect.any(String))
    expect(activated.user.activated).toBeNull()

    await clockPasses(activated.user.statusChanged)
    const completed = await setPassword(activated.activationToken)
    expect(completed.userErrors).toEqual([])
    expect(completed.user).toMatchObject({ status: 'ACTIVE', credentials: { hasPassword: true } })
    // Setting the password is the change to ACTIVE: every stamp it moves is that one instant, after the activation.
    expect(Date.parse(completed.user.statusChanged)).toBeGreaterThan(Date.parse(activated.user.statusChanged))
    for (const stamp of [completed.user.activated, completed.user.passwordChanged, completed.user.lastUpdated])
      expect(stamp).toBe(completed.user.statusChanged)
  })

  test('activating a staged user that has a password makes it ACTIVE without a token', async () => {
    const { user } = await createUser(api, { activate: false, password: PASSWORD })
    const activated = await lifecycle(api, 'activateUser', user.id, {}, 'activationToken')
    expect(activated.user.status).toBe('ACTIVE')
    expect(activated.activationToken).toBeNull()
  })

  test('an activation token works once', async () => {
    const { activationToken } = await createUser(api)
    expect((await setPassword(activationToken)).user.status).toBe('ACTIVE')
    const second = await setPassword(activationToken)
    expect(second.user).toBeNull()
    expect(second.userErrors).toEqual([{ code: 'INVALID_TOKEN', field: ['token'] }])
  })

  test('reactivating a PROVISIONED user issues a new token and invalidates the old one', async () => {
    const { user, activationToken: first } = await createUser(api)
    const reactivated = await lifecycle(api, 'reactivateUser', user.id, {}, 'activationToken')
    expect(reactivated.user.status).toBe('PROVISIONED')
    expect(reactivated.activationToken).not.toBe(first)
    expect((await setPassword(first)).userErrors[0].code).toBe('INVALID_TOKEN')
    expect((await setPassword(reactivated.activationToken)).user.status).toBe('ACTIVE')
  })

  test('activating an ACTIVE user is an invalid transition naming the status and leaves it unchanged', async () => {
    const { user } = await createUser(api, { password: PASSWORD })
    const result = await lifecycle(api, 'activateUser', user.id)
    expect(result.user).toBeNull()
    expect(result.userErrors[0].code).toBe('INVALID_TRANSITION')
    expect(result.userErrors[0].message).toContain('ACTIVE')
    expect(result.userErrors[0].message).toContain('activate')
    expect(await getUser(api, user.id)).toEqual(user)
  })
})

describe('suspension, unlock and passwords', () => {
  test('suspending and unsuspending an ACTIVE user round-trips through SUSPENDED', async () => {
    const { user } = await createUser(api, { password: PASSWORD })
    await clockPasses(user.statusChanged)
    const suspended = (await lifecycle(api, 'suspendUser', user.id)).user
    expect(suspended.status).toBe('SUSPENDED')
    expect(Date.parse(suspended.statusChanged)).toBeGreaterThan(Date.parse(user.statusChanged))
    expect(suspended.lastUpdated).toBe(suspended.statusChanged)
    expect(suspended.activated).toBe(user.activated)
    await clockPasses(suspended.statusChanged)
    const unsuspended = (await lifecycle(api, 'unsuspendUser', user.id)).user
    expect(unsuspended.status).toBe('ACTIVE')
    // activated is when the status last became ACTIVE (domain.md 1.2).
    expect(Date.parse(unsuspended.statusChanged)).toBeGreaterThan(Date.parse(suspended.statusChanged))
    expect(unsuspended.activated).toBe(unsuspended.statusChanged)
    expect(unsuspended.lastUpdated).toBe(unsuspended.statusChanged)
    const types = (await eventsFor(api, user.id)).map((event: any) => event.type)
    expect(types).toEqual(expect.arrayContaining(['user.lifecycle.suspend', 'user.lifecycle.unsuspend']))
  })

  test('a SUSPENDED user allows only unsuspend and deactivate', async () => {
    const { user } = await createUser(api, { password: PASSWORD })
    const suspended = (await lifecycle(api, 'suspendUser', user.id)).user
    for (const mutation of [
      'suspendUser',
      'unlockUser',
      'resetPassword',
      'expirePassword',
      'activateUser',
      'reactivateUser',
    ]) {
      const result = await lifecycle(api, mutation, user.id)
      expect(result.userErrors[0]?.code).toBe('INVALID_TRANSITION')
    }
    expect(await getUser(api, user.id)).toEqual(suspended)
    expect((await lifecycle(api, 'deactivateUser', user.id)).user.status).toBe('DEPROVISIONED')
  })

  test('suspending a PROVISIONED user is refused', async () => {
    const { user } = await createUser(api)
    const result = await lifecycle(api, 'suspendUser', user.id)
    expect(result.userErrors[0]).toMatchObject({ code: 'INVALID_TRANSITION' })
    expect(result.userErrors[0].message).toContain('PROVISIONED')
  })

  test('resetting a password puts the user in RECOVERY and the reset token makes it ACTIVE with the new password', async () => {
    const { user } = await createUser(api, { password: PASSWORD })
    const reset = await lifecycle(api, 'resetPassword', user.id, {}, 'resetToken')
    expect(reset.user.status).toBe('RECOVERY')
    const completed = await setPassword(reset.resetToken, 'a brand new password')
    expect(completed.user.status).toBe('ACTIVE')
    const signIn = await api.gql(
      `mutation { authenticate(input: { login: "${user.profile.login}", password: "a brand new password" }) { success } }`,
    )
    expect(signIn.data.authenticate.success).toBe(true)
  })

  test('expiring a password gives PASSWORD_EXPIRED and a temporary password when asked', async () => {
    const { user } = await createUser(api, { password: PASSWORD })
    const expired = await lifecycle(api, 'expirePassword', user.id, { tempPassword: true }, 'tempPassword')
    expect(expired.user.status).toBe('PASSWORD_EXPIRED')
    expect(expired.tempPassword).toEqual(expect.any(String))
    const signIn = await api.gql(
      `mutation($input: AuthenticateInput!) { authenticate(input: $input) { success passwordChangeRequired } }`,
      { input: { login: user.profile.login, password: expired.tempPassword } },
    )
    expect(signIn.data.authenticate).toEqual({ success: true, passwordChangeRequired: true })
  })

  test('changing an expired password makes the user ACTIVE', async () => {
    const { user } = await createUser(api, { password: PASSWORD })
    await lifecycle(api, 'expirePassword', user.id)
    const changed = await api.gql(
      `mutation($input: ChangePasswordInput!) { changePassword(input: $input) { user { status } userErrors { code } } }`,
      { input: { login: user.profile.login, currentPassword: PASSWORD, newPassword: 'another good password' } },
    )
    expect(changed.data.changePassword).toEqual({ user: { status: 'ACTIVE' }, userErrors: [] })
  })
})

describe('deactivation and deletion', () => {
  test('deactivating deletes the password, so activating again gives PROVISIONED', async () => {
    const { user } = await createUser(api, { password: PASSWORD })
    const deactivated = await lifecycle(api, 'deactivateUser', user.id)
    expect(deactivated.user).toMatchObject({ status: 'DEPROVISIONED', credentials: { hasPassword: false } })
    const reactivated = await lifecycle(api, 'activateUser', user.id, {}, 'activationToken')
    expect(reactivated.user.status).toBe('PROVISIONED')
    expect(reactivated.activationToken).toEqual(expect.any(String))
  })

  test('deactivating a DEPROVISIONED user is refused', async () => {
    const { user } = await createUser(api)
    await lifecycle(api, 'deactivateUser', user.id)
    expect((await lifecycle(api, 'deactivateUser', user.id)).userErrors[0].code).toBe('INVALID_TRANSITION')
  })

  test('deleting is two steps: the first call deactivates, the second removes the user', async () => {
    const { user } = await createUser(api, { password: PASSWORD })
    const remove = `mutation($id: ID!) { deleteUser(input: { id: $id }) { deletedUserId user { status } userErrors { code } } }`
    const first = await api.gql(remove, { id: user.id })
    expect(first.data.deleteUser).toEqual({ deletedUserId: null, user: { status: 'DEPROVISIONED' }, userErrors: [] })
    const second = await api.gql(remove, { id: user.id })
    expect(second.data.deleteUser).toEqual({ deletedUserId: user.id, user: null, userErrors: [] })
    expect(await getUser(api, user.id)).toBeNull()
    const third = await api.gql(remove, { id: user.id })
    expect(third.data.deleteUser.userErrors).toEqual([{ code: 'NOT_FOUND' }])
    const types = (await eventsFor(api, user.id)).map((event: any) => event.type)
    expect(types.slice(-3)).toEqual([
      'user.lifecycle.deactivate',
      'user.lifecycle.delete.initiated',
      'user.lifecycle.delete.completed',
    ])
  })
})

describe('profile updates', () => {
  test('updating changes only the given attributes and records the change', async () => {
    const { user } = await createUser(api, {
      profile: { department: 'Sales', custom: { costCenter: 'C1', site: 'Oslo' } },
    })
    await clockPasses(user.lastUpdated)
    const response = await api.gql(
      `mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { profile { firstName lastName department custom } lastUpdated statusChanged } userErrors { code } } }`,
      {
        input: {
          id: user.id,
          profile: { department: 'Engineering', lastName: null, custom: { site: null, floor: 3 } },
        },
      },
    )
    const updated = response.data.updateUser.user
    expect(updated.profile).toEqual({
      firstName: 'Ada',
      lastName: null,
      department: 'Engineering',
      custom: { costCenter: 'C1', floor: 3 },
    })
    expect(Date.parse(updated.lastUpdated)).toBeGreaterThan(Date.parse(user.lastUpdated))
    expect(updated.statusChanged).toBe(user.statusChanged) // a profile change is not a status change
    const last = (await eventsFor(api, user.id)).at(-1)
    expect(last.type).toBe('user.account.update_profile')
  })

  test('a DEPROVISIONED user cannot be updated', async () => {
    const { user } = await createUser(api)
    await lifecycle(api, 'deactivateUser', user.id)
    const response = await api.gql(
      `mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { id } userErrors { code } } }`,
      { input: { id: user.id, profile: { department: 'Engineering' } } },
    )
    expect(response.data.updateUser).toEqual({ user: null, userErrors: [{ code: 'INVALID_TRANSITION' }] })
  })
})
