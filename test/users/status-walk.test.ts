import { type UserOperation, type UserStatus } from '../../src/users/status-machine'
import { startTestServer, type TestServer } from '../support/harness'
import { EXPECTED_CELLS } from '../support/status-table'
import { createUser, getUser, lifecycle } from '../support/users'

/**
 * Every cell of the status table, walked through the GraphQL API: each case brings a new user
 * to the source status with API calls only, applies the operation, and compares the payload and
 * the stored status with the independently written table (test/support/status-table.ts).
 */
let api: TestServer
beforeAll(async () => {
  api = await startTestServer({ LOCKOUT_MAX_ATTEMPTS: '1' })
})
afterAll(() => api.close())

const PASSWORD = 'correct horse battery'
const NEW_PASSWORD = 'a brand new password'

interface Subject {
  id: string
  login: string
  activationToken?: string
  resetToken?: string
}

async function mutation(
  name: string,
  input: Record<string, unknown>,
  fields = 'user { id status } userErrors { code }',
) {
  const response = await api.gql(
    `mutation($input: ${name[0].toUpperCase()}${name.slice(1)}Input!) { ${name}(input: $input) { ${fields} } }`,
    { input },
  )
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  return response.data[name]
}

const authenticate = (login: string, password: string) =>
  mutation('authenticate', { login, password }, 'success user { id status } userErrors { code }')

/** A step that must succeed while reaching a source status. */
async function step(name: string, id: string, field = '') {
  const payload = await lifecycle(api, name, id, {}, field)
  if (payload.userErrors.length) throw new Error(`${name}: ${JSON.stringify(payload.userErrors)}`)
  return payload
}

/** A new user in `status`, reached through the API; STAGED users have a password unless told otherwise. */
async function userIn(status: UserStatus, options: { password?: boolean } = {}): Promise<Subject> {
  if (status === 'STAGED') {
    const { user } = await createUser(api, {
      activate: false,
      ...(options.password === false ? {} : { password: PASSWORD }),
    })
    return { id: user.id, login: user.profile.login }
  }
  if (status === 'PROVISIONED') {
    const { user, activationToken } = await createUser(api)
    return { id: user.id, login: user.profile.login, activationToken }
  }
  const { user } = await createUser(api, { password: PASSWORD })
  const subject: Subject = { id: user.id, login: user.profile.login }
  if (status === 'RECOVERY') subject.resetToken = (await step('resetPassword', user.id, 'resetToken')).resetToken
  if (status === 'PASSWORD_EXPIRED') await step('expirePassword', user.id)
  if (status === 'LOCKED_OUT') await authenticate(subject.login, 'a wrong password')
  if (status === 'SUSPENDED') await step('suspendUser', user.id)
  if (status === 'DEPROVISIONED') await step('deactivateUser', user.id)
  return subject
}

/**
 * A user in `status` that was created without a password and still holds its activation token
 * (PROVISIONED, then reset and completed, then moved on): the token is live in every status but
 * STAGED (never issued) and DEPROVISIONED (deactivation deletes tokens).
 */
async function userHoldingActivationToken(status: UserStatus): Promise<Subject> {
  const { user, activationToken } = await createUser(api)
  const subject: Subject = { id: user.id, login: user.profile.login, activationToken }
  if (status === 'PROVISIONED') return subject
  subject.resetToken = (await step('resetPassword', user.id, 'resetToken')).resetToken
  if (status === 'RECOVERY') return subject
  const completed = await mutation('setPassword', { token: subject.resetToken, password: PASSWORD })
  if (completed.user?.status !== 'ACTIVE') throw new Error(`completing the reset: ${JSON.stringify(completed)}`)
  if (status === 'PASSWORD_EXPIRED') await step('expirePassword', user.id)
  if (status === 'LOCKED_OUT') await authenticate(subject.login, 'a wrong password')
  if (status === 'SUSPENDED') await step('suspendUser', user.id)
  if (status === 'DEPROVISIONED') await step('deactivateUser', user.id)
  return subject
}

const storedStatus = async (id: string) => (await getUser(api, id))?.status ?? 'DELETED'

/** The admin mutation behind each admin operation, and the one-time token field its payload carries. */
const ADMIN_OPERATIONS: Partial<
  Record<UserOperation, { mutation: string; input?: Record<string, unknown>; token?: string }>
> = {
  activate: { mutation: 'activateUser', token: 'activationToken' },
  reactivate: { mutation: 'reactivateUser', token: 'activationToken' },
  deactivate: { mutation: 'deactivateUser' },
  suspend: { mutation: 'suspendUser' },
  unsuspend: { mutation: 'unsuspendUser' },
  unlock: { mutation: 'unlockUser' },
  resetPassword: { mutation: 'resetPassword', token: 'resetToken' },
  expirePassword: { mutation: 'expirePassword' },
  updateProfile: { mutation: 'updateUser', input: { profile: { department: 'Walked' } } },
  delete: { mutation: 'deleteUser' },
}

// "A/P" (activate from STAGED) depends on the password: both variants are walked.
const adminCells = EXPECTED_CELLS.filter((cell) => cell.operation in ADMIN_OPERATIONS).flatMap((cell) =>
  cell.expected === 'A/P'
    ? [
        { ...cell, password: true, expected: 'ACTIVE' },
        { ...cell, password: false, expected: 'PROVISIONED' },
      ]
    : [{ ...cell, password: true }],
)

describe.each(adminCells)(
  '$operation from $from (password: $password) through the API',
  ({ operation, from, expected, password }) => {
    const { mutation: name, input = {}, token } = ADMIN_OPERATIONS[operation]!
    test(
      expected === '-' ? 'is refused with INVALID_TRANSITION and changes nothing' : `gives ${expected}`,
      async () => {
        const subject = await userIn(from, { password })
        expect(await storedStatus(subject.id)).toBe(from)
        const fields = `${token ?? ''} ${name === 'deleteUser' ? 'deletedUserId' : ''}`
        const payload = await lifecycle(api, name, subject.id, input, fields)
        if (expected === '-') {
          expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_TRANSITION' })])
          expect(payload.user).toBeNull()
          expect(await storedStatus(subject.id)).toBe(from)
          return
        }
        expect(payload.userErrors).toEqual([])
        if (expected === 'DELETED') {
          expect(payload).toMatchObject({ user: null, deletedUserId: subject.id })
        } else {
          expect(payload.user.status).toBe(expected)
        }
        expect(await storedStatus(subject.id)).toBe(expected)
        if (token)
          expect(payload[token]).toEqual(
            expected === 'PROVISIONED' || token === 'resetToken' ? expect.any(String) : null,
          )
      },
    )
  },
)

const cellsOf = (operation: UserOperation) => EXPECTED_CELLS.filter((cell) => cell.operation === operation)

describe.each(cellsOf('signIn'))('signIn (the right password) from $from through the API', ({ from, expected }) => {
  // A refused sign-in does not say why (AUTHENTICATION_FAILED), whatever the status.
  test(
    expected === '-' ? 'is refused with AUTHENTICATION_FAILED and changes nothing' : `succeeds and gives ${expected}`,
    async () => {
      const subject = await userIn(from)
      const result = await authenticate(subject.login, PASSWORD)
      if (expected === '-')
        expect(result).toEqual({ success: false, user: null, userErrors: [{ code: 'AUTHENTICATION_FAILED' }] })
      else expect(result).toEqual({ success: true, user: { id: subject.id, status: expected }, userErrors: [] })
      expect(await storedStatus(subject.id)).toBe(expected === '-' ? from : expected)
    },
  )
})

describe.each(cellsOf('lockOut'))(
  'a failed sign-in reaching the lockout limit from $from through the API',
  ({ from, expected }) => {
    test(expected === '-' ? 'is refused and changes nothing' : `gives ${expected}`, async () => {
      const subject = await userIn(from)
      expect(await authenticate(subject.login, 'a wrong password')).toEqual({
        success: false,
        user: null,
        userErrors: [{ code: 'AUTHENTICATION_FAILED' }],
      })
      expect(await storedStatus(subject.id)).toBe(expected === '-' ? from : expected)
    })
  },
)

describe.each(cellsOf('changePassword'))(
  'changePassword (the right current password) from $from through the API',
  ({ from, expected }) => {
    // PROVISIONED and DEPROVISIONED users have no password to prove: the change fails authentication first.
    const refusal = from === 'PROVISIONED' || from === 'DEPROVISIONED' ? 'AUTHENTICATION_FAILED' : 'INVALID_TRANSITION'
    test(expected === '-' ? `is refused with ${refusal} and changes nothing` : `gives ${expected}`, async () => {
      const subject = await userIn(from)
      const result = await mutation('changePassword', {
        login: subject.login,
        currentPassword: PASSWORD,
        newPassword: NEW_PASSWORD,
      })
      if (expected === '-') {
        expect(result).toEqual({ user: null, userErrors: [{ code: refusal }] })
        expect(await storedStatus(subject.id)).toBe(from)
      } else {
        expect(result).toEqual({ user: { id: subject.id, status: expected }, userErrors: [] })
        expect(await storedStatus(subject.id)).toBe(expected)
        expect((await authenticate(subject.login, NEW_PASSWORD)).success).toBe(true)
      }
    })
  },
)

const holdingActivationToken = cellsOf('completeActivation').filter(({ from }) => from !== 'STAGED')

describe.each(holdingActivationToken)(
  'setPassword with an activation token from $from through the API',
  ({ from, expected }) => {
    // Deactivation deletes every one-time token, so a DEPROVISIONED user's old token is unknown.
    const refusal = from === 'DEPROVISIONED' ? 'INVALID_TOKEN' : 'INVALID_TRANSITION'
    test(expected === '-' ? `is refused with ${refusal} and changes nothing` : `gives ${expected}`, async () => {
      const subject = await userHoldingActivationToken(from)
      expect(await storedStatus(subject.id)).toBe(from)
      const result = await mutation('setPassword', { token: subject.activationToken, password: NEW_PASSWORD })
      if (expected === '-') {
        expect(result).toEqual({ user: null, userErrors: [{ code: refusal }] })
        expect(await storedStatus(subject.id)).toBe(from)
      } else {
        expect(result).toEqual({ user: { id: subject.id, status: expected }, userErrors: [] })
        expect(await storedStatus(subject.id)).toBe(expected)
      }
    })
  },
)

describe.each(cellsOf('completeReset').filter(({ from }) => from === 'RECOVERY'))(
  'setPassword with a reset token from $from through the API',
  ({ from, expected }) => {
    // A reset token lives only in RECOVERY: every way out of it (completing, reactivate, deactivate) deletes the token.
    test(`gives ${expected}`, async () => {
      const subject = await userIn(from)
      const result = await mutation('setPassword', { token: subject.resetToken, password: NEW_PASSWORD })
      expect(result).toEqual({ user: { id: subject.id, status: expected }, userErrors: [] })
      expect(await storedStatus(subject.id)).toBe(expected)
    })
  },
)
