import { clockPasses } from '../support/clock'
import { startTestServer, type TestServer } from '../support/harness'
import { createUser, eventsFor, getUser, lifecycle } from '../support/users'

let api: TestServer
beforeAll(async () => {
  api = await startTestServer({ LOCKOUT_MAX_ATTEMPTS: '3' })
})
afterAll(() => api.close())

const PASSWORD = 'correct horse battery'

async function signIn(login: string, password: string) {
  const response = await api.gql(
    `mutation($input: AuthenticateInput!) { authenticate(input: $input) { success passwordChangeRequired user { status lastLogin lastUpdated statusChanged } userErrors { code } } }`,
    { input: { login, password } },
  )
  return response.data.authenticate
}

test('a correct password signs in, records lastLogin and a user.session.start event', async () => {
  const { user } = await createUser(api, { password: PASSWORD })
  await clockPasses(user.lastUpdated)
  const result = await signIn(user.profile.login, PASSWORD)
  expect(result).toMatchObject({ success: true, passwordChangeRequired: false, userErrors: [] })
  expect(Date.parse(result.user.lastLogin)).toBeGreaterThan(Date.parse(user.lastUpdated))
  expect(result.user.lastUpdated).toBe(result.user.lastLogin)
  expect(result.user.statusChanged).toBe(user.statusChanged) // signing in changes no status
  const last = (await eventsFor(api, user.id)).at(-1)
  expect(last).toMatchObject({ type: 'user.session.start', outcome: { result: 'SUCCESS' } })
})

test('reaching the lockout policy with wrong passwords makes the user LOCKED_OUT', async () => {
  const { user } = await createUser(api, { password: PASSWORD })
  for (let attempt = 1; attempt <= 2; attempt++) {
    expect(await signIn(user.profile.login, 'wrong password')).toMatchObject({
      success: false,
      userErrors: [{ code: 'AUTHENTICATION_FAILED' }],
    })
    expect((await getUser(api, user.id)).status).toBe('ACTIVE')
  }
  await signIn(user.profile.login, 'wrong password')
  expect((await getUser(api, user.id)).status).toBe('LOCKED_OUT')
  expect((await eventsFor(api, user.id)).at(-1)).toMatchObject({
    type: 'user.account.lock',
    data: { previousStatus: 'ACTIVE', status: 'LOCKED_OUT' },
  })

  // Locked out, even the right password is refused; an admin unlock restores sign-in.
  expect((await signIn(user.profile.login, PASSWORD)).success).toBe(false)
  expect((await lifecycle(api, 'unlockUser', user.id)).user.status).toBe('ACTIVE')
  expect((await signIn(user.profile.login, PASSWORD)).success).toBe(true)
})

/** LOCKOUT_MAX_ATTEMPTS - 1 wrong passwords leave the user ACTIVE; one more locks it. */
async function expectFullAllowanceOfAttempts(user: { id: string; profile: { login: string } }) {
  for (let attempt = 1; attempt <= 2; attempt++) {
    await signIn(user.profile.login, 'wrong password')
    expect((await getUser(api, user.id)).status).toBe('ACTIVE')
  }
  await signIn(user.profile.login, 'wrong password')
  expect((await getUser(api, user.id)).status).toBe('LOCKED_OUT')
}

test('after an unlock the user gets the full LOCKOUT_MAX_ATTEMPTS again before locking', async () => {
  const { user } = await createUser(api, { password: PASSWORD })
  for (let attempt = 1; attempt <= 3; attempt++) await signIn(user.profile.login, 'wrong password')
  expect((await getUser(api, user.id)).status).toBe('LOCKED_OUT')
  expect((await lifecycle(api, 'unlockUser', user.id)).user.status).toBe('ACTIVE')
  await expectFullAllowanceOfAttempts(user)
})

test('unlocking an ACTIVE user clears its failed sign-ins', async () => {
  const { user } = await createUser(api, { password: PASSWORD })
  await signIn(user.profile.login, 'wrong password')
  await signIn(user.profile.login, 'wrong password')
  expect((await lifecycle(api, 'unlockUser', user.id)).user.status).toBe('ACTIVE')
  await expectFullAllowanceOfAttempts(user)
})

test('a successful sign-in resets the failed attempt count', async () => {
  const { user } = await createUser(api, { password: PASSWORD })
  await signIn(user.profile.login, 'wrong password')
  await signIn(user.profile.login, 'wrong password')
  await signIn(user.profile.login, PASSWORD)
  await signIn(user.profile.login, 'wrong password')
  await signIn(user.profile.login, 'wrong password')
  expect((await getUser(api, user.id)).status).toBe('ACTIVE')
})

test('signing in with an expired password succeeds but requires a change', async () => {
  const { user } = await createUser(api, { password: PASSWORD })
  await lifecycle(api, 'expirePassword', user.id)
  expect(await signIn(user.profile.login, PASSWORD)).toMatchObject({
    success: true,
    passwordChangeRequired: true,
    user: { status: 'PASSWORD_EXPIRED' },
  })
})

test('an expired password stays expired through a lockout and an unlock: the next sign-in requires a change', async () => {
  const { user } = await createUser(api, { password: PASSWORD })
  await lifecycle(api, 'expirePassword', user.id)
  for (let attempt = 1; attempt <= 3; attempt++) await signIn(user.profile.login, 'wrong password')
  expect((await getUser(api, user.id)).status).toBe('LOCKED_OUT')
  await lifecycle(api, 'unlockUser', user.id)
  expect((await getUser(api, user.id)).status).toBe('ACTIVE')
  expect(await signIn(user.profile.login, PASSWORD)).toMatchObject({
    success: true,
    passwordChangeRequired: true,
    user: { status: 'PASSWORD_EXPIRED' },
  })
  const types = (await eventsFor(api, user.id)).slice(-2).map((event: { type: string }) => event.type)
  expect(types).toEqual(['user.account.expire_password', 'user.session.start'])

  // A new password ends the expiry: the next sign-in is an ordinary one.
  const changed = await api.gql(
    `mutation($input: ChangePasswordInput!) { changePassword(input: $input) { user { status } userErrors { code } } }`,
    { input: { login: user.profile.login, currentPassword: PASSWORD, newPassword: `${PASSWORD} 2` } },
  )
  expect(changed.data.changePassword).toEqual({ user: { status: 'ACTIVE' }, userErrors: [] })
  expect(await signIn(user.profile.login, `${PASSWORD} 2`)).toMatchObject({
    success: true,
    passwordChangeRequired: false,
    user: { status: 'ACTIVE' },
  })
})

test('users who cannot sign in are refused without revealing why', async () => {
  const staged = (await createUser(api, { activate: false, password: PASSWORD })).user
  const suspended = (await createUser(api, { password: PASSWORD })).user
  await lifecycle(api, 'suspendUser', suspended.id)
  for (const login of [staged.profile.login, suspended.profile.login, 'nobody@example.com']) {
    expect(await signIn(login, PASSWORD)).toEqual({
      success: false,
      passwordChangeRequired: false,
      user: null,
      userErrors: [{ code: 'AUTHENTICATION_FAILED' }],
    })
  }
  expect((await getUser(api, suspended.id)).status).toBe('SUSPENDED')
})
