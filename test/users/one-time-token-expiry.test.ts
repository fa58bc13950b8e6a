import { startTestServer, type TestServer } from '../support/harness'
import { createUser, getUser, lifecycle } from '../support/users'

const PASSWORD = 'correct horse battery'
const SET_PASSWORD = `mutation($input: SetPasswordInput!) { setPassword(input: $input) { user { id status } userErrors { code field } } }`

async function setPassword(api: TestServer, token: string) {
  const response = await api.gql(SET_PASSWORD, { input: { token, password: PASSWORD } })
  return response.data.setPassword
}

/** A PROVISIONED user with its activation token, and a RECOVERY user with its reset token. */
async function holders(api: TestServer) {
  const provisioned = await createUser(api)
  const active = (await createUser(api, { password: PASSWORD })).user
  const reset = await lifecycle(api, 'resetPassword', active.id, {}, 'resetToken')
  return {
    activation: { id: provisioned.user.id, token: provisioned.activationToken as string, status: 'PROVISIONED' },
    reset: { id: active.id, token: reset.resetToken as string, status: 'RECOVERY' },
  }
}

const EXPIRED = { user: null, userErrors: [{ code: 'INVALID_TOKEN', field: ['token'] }] }

// A TTL far below a millisecond makes a token expire at the instant it is issued, so any later
// use is past its expiry without waiting.
describe('with ACTIVATION_TOKEN_TTL_HOURS and RESET_TOKEN_TTL_MINUTES that have already run out', () => {
  let api: TestServer
  beforeAll(async () => {
    api = await startTestServer({ ACTIVATION_TOKEN_TTL_HOURS: '1e-9', RESET_TOKEN_TTL_MINUTES: '1e-9' })
  })
  afterAll(() => api.close())

  test.each(['activation', 'reset'] as const)(
    'setPassword with an expired %s token is INVALID_TOKEN and the user stays as it was',
    async (purpose) => {
      const holder = (await holders(api))[purpose]
      expect(await setPassword(api, holder.token)).toEqual(EXPIRED)
      expect((await getUser(api, holder.id)).status).toBe(holder.status)
    },
  )
})

describe('each token kind expires by its own setting', () => {
  test('only activation tokens expire when only ACTIVATION_TOKEN_TTL_HOURS has run out', async () => {
    const api = await startTestServer({ ACTIVATION_TOKEN_TTL_HOURS: '1e-9' })
    try {
      const { activation, reset } = await holders(api)
      expect(await setPassword(api, activation.token)).toEqual(EXPIRED)
      expect(await setPassword(api, reset.token)).toEqual({ user: { id: reset.id, status: 'ACTIVE' }, userErrors: [] })
    } finally {
      await api.close()
    }
  })

  test('only reset tokens expire when only RESET_TOKEN_TTL_MINUTES has run out', async () => {
    const api = await startTestServer({ RESET_TOKEN_TTL_MINUTES: '1e-9' })
    try {
      const { activation, reset } = await holders(api)
      expect(await setPassword(api, reset.token)).toEqual(EXPIRED)
      expect(await setPassword(api, activation.token)).toEqual({
        user: { id: activation.id, status: 'ACTIVE' },
        userErrors: [],
      })
    } finally {
      await api.close()
    }
  })
})

describe('with the default TTLs', () => {
  let api: TestServer
  beforeAll(async () => {
    api = await startTestServer()
  })
  afterAll(() => api.close())

  test.each(['activation', 'reset'] as const)(
    'setPassword with the %s token once its expiry has passed is INVALID_TOKEN and the user stays as it was',
    async (purpose) => {
      const holder = (await holders(api))[purpose]
      await api.database.db.prisma.oneTimeToken.updateMany({
        where: { userId: holder.id },
        data: { expiresAt: new Date(Date.now() - 1000) },
      })
      expect(await setPassword(api, holder.token)).toEqual(EXPIRED)
      expect((await getUser(api, holder.id)).status).toBe(holder.status)
    },
  )

  test('activation tokens live ACTIVATION_TOKEN_TTL_HOURS (168 h) and reset tokens RESET_TOKEN_TTL_MINUTES (60 min) from their issue', async () => {
    const { activation, reset } = await holders(api)
    const lifetime = async (userId: string) => {
      const [token] = await api.database.db.prisma.oneTimeToken.findMany({ where: { userId } })
      return token.expiresAt.getTime() - token.created.getTime()
    }
    expect(await lifetime(activation.id)).toBe(168 * 3_600_000)
    expect(await lifetime(reset.id)).toBe(60 * 60_000)
  })
})
