import { startTestServer, type TestServer } from '../support/harness'
import { createUser, eventsFor, getUser, uniqueLogin, USER_FIELDS } from '../support/users'

let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

const PASSWORD = 'correct horse battery'
const ALL_STATUSES = '[STAGED, PROVISIONED, ACTIVE, RECOVERY, PASSWORD_EXPIRED, LOCKED_OUT, SUSPENDED, DEPROVISIONED]'

/** Every stored user, whatever its status. */
async function userCount(): Promise<number> {
  const response = await api.gql(`{ users(filter: { status: ${ALL_STATUSES} }) { totalCount } }`)
  expect(response.errors).toBeUndefined()
  return response.data.users.totalCount
}

async function createRaw(input: Record<string, unknown>) {
  const response = await api.gql(
    `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } activationToken userErrors { code message field } } }`,
    { input },
  )
  expect(response.errors).toBeUndefined()
  return response.data.createUser
}

async function update(id: string, profile: Record<string, unknown>) {
  const response = await api.gql(
    `mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { ${USER_FIELDS} } userErrors { code message field } } }`,
    { input: { id, profile } },
  )
  expect(response.errors).toBeUndefined()
  return response.data.updateUser
}

async function listUsers(search: string | null, extra = '') {
  return api.gql(
    `query($search: String) { users(filter: { search: $search ${extra} }) { totalCount edges { node { id } } } }`,
    { search },
  )
}

const validProfile = (login = uniqueLogin('valid')) => ({ login, email: login, firstName: 'Grace', lastName: 'Hopper' })

describe('creating a user with invalid input', () => {
  const cases: {
    name: string
    profile?: Record<string, unknown>
    credentials?: Record<string, unknown>
    field: string[]
  }[] = [
    {
      name: 'an email that is not an email address',
      profile: { email: 'grace.example.com' },
      field: ['profile', 'email'],
    },
    { name: 'an empty login', profile: { login: '' }, field: ['profile', 'login'] },
    { name: 'a login of only whitespace', profile: { login: ' \t ' }, field: ['profile', 'login'] },
    {
      name: 'a login of 101 characters',
      profile: { login: `${'l'.repeat(89)}@example.com` },
      field: ['profile', 'login'],
    },
    { name: 'a firstName of 51 characters', profile: { firstName: 'F'.repeat(51) }, field: ['profile', 'firstName'] },
    { name: 'a lastName of 51 characters', profile: { lastName: 'L'.repeat(51) }, field: ['profile', 'lastName'] },
    { name: 'a password of 7 characters', credentials: { password: 'short77' }, field: ['credentials', 'password'] },
    { name: 'custom attributes given as a string', profile: { custom: 'tags' }, field: ['profile', 'custom'] },
    { name: 'custom attributes given as a list', profile: { custom: [1, 2] }, field: ['profile', 'custom'] },
    { name: 'custom attributes given as a number', profile: { custom: 42 }, field: ['profile', 'custom'] },
  ]

  test.each(cases)(
    '$name is a VALIDATION userError naming $field, and nothing is stored',
    async ({ profile, credentials, field }) => {
      const base = validProfile()
      const before = await userCount()
      const payload = await createRaw({ profile: { ...base, ...profile }, ...(credentials ? { credentials } : {}) })
      expect(payload.user).toBeNull()
      expect(payload.activationToken).toBeNull()
      expect(payload.userErrors).toEqual([{ code: 'VALIDATION', message: expect.any(String), field }])
      expect(await userCount()).toBe(before)
      const login = (profile?.login as string | undefined) ?? base.login
      expect((await api.gql('query($login: String!) { user(login: $login) { id } }', { login })).data.user).toBeNull()
    },
  )

  test('several invalid attributes are all reported, each with its own field path', async () => {
    const before = await userCount()
    const payload = await createRaw({
      profile: { login: '', email: 'nope', firstName: 'F'.repeat(51) },
      credentials: { password: 'short' },
    })
    expect(payload.user).toBeNull()
    expect(payload.userErrors.map((error: any) => [error.code, error.field])).toEqual(
      expect.arrayContaining([
        ['VALIDATION', ['profile', 'login']],
        ['VALIDATION', ['profile', 'email']],
        ['VALIDATION', ['profile', 'firstName']],
        ['VALIDATION', ['credentials', 'password']],
      ]),
    )
    expect(await userCount()).toBe(before)
  })

  test('the limits themselves are accepted: a 100-character login, a 50-character firstName and an 8-character password', async () => {
    const login = `${'l'.repeat(88)}@example.com`
    expect(login).toHaveLength(100)
    const payload = await createRaw({
      profile: { login, email: 'limits@example.com', firstName: 'F'.repeat(50) },
      credentials: { password: 'eight888' },
    })
    expect(payload.userErrors).toEqual([])
    const stored = await getUser(api, payload.user.id)
    expect(stored.profile).toMatchObject({ login, firstName: 'F'.repeat(50) })
    expect(stored.credentials.hasPassword).toBe(true)
  })

  test('a login that is already taken is a CONFLICT on profile.login, and the existing user is unchanged', async () => {
    const { user: existing } = await createUser(api, { profile: { department: 'Finance' } })
    const before = await userCount()
    const payload = await createRaw({
      profile: {
        login: existing.profile.login,
        email: 'someone.else@example.com',
        firstName: 'Someone',
        department: 'Sales',
      },
    })
    expect(payload.user).toBeNull()
    expect(payload.userErrors).toHaveLength(1)
    expect(payload.userErrors[0].code).toBe('CONFLICT')
    expect(payload.userErrors[0].field).toContain('login')
    expect(await userCount()).toBe(before)
    expect(await getUser(api, existing.id)).toEqual(existing)
  })
})

describe('updating a user with invalid input', () => {
  test('an invalid email is a VALIDATION userError on profile.email and leaves the user and its events unchanged', async () => {
    const { user } = await createUser(api, { profile: { department: 'Finance' } })
    const eventsBefore = await eventsFor(api, user.id)
    const payload = await update(user.id, { email: 'not-an-address', department: 'Sales' })
    expect(payload.user).toBeNull()
    expect(payload.userErrors).toEqual([
      { code: 'VALIDATION', message: expect.any(String), field: ['profile', 'email'] },
    ])
    expect(await getUser(api, user.id)).toEqual(user)
    expect(await eventsFor(api, user.id)).toEqual(eventsBefore)
  })

  test('a login of only whitespace is a VALIDATION userError on profile.login and leaves the user unchanged', async () => {
    const { user } = await createUser(api)
    const payload = await update(user.id, { login: '   ' })
    expect(payload.userErrors).toEqual([
      { code: 'VALIDATION', message: expect.any(String), field: ['profile', 'login'] },
    ])
    expect(await getUser(api, user.id)).toEqual(user)
  })

  test('a firstName of 51 characters is a VALIDATION userError on profile.firstName and leaves the user unchanged', async () => {
    const { user } = await createUser(api)
    const payload = await update(user.id, { firstName: 'F'.repeat(51) })
    expect(payload.userErrors).toEqual([
      { code: 'VALIDATION', message: expect.any(String), field: ['profile', 'firstName'] },
    ])
    expect(await getUser(api, user.id)).toEqual(user)
  })

  test('changing the login to one already taken is a CONFLICT, and neither user changes', async () => {
    const { user: first } = await createUser(api)
    const { user: second } = await createUser(api)
    const payload = await update(second.id, { login: first.profile.login, department: 'Sales' })
    expect(payload.user).toBeNull()
    expect(payload.userErrors).toHaveLength(1)
    expect(payload.userErrors[0].code).toBe('CONFLICT')
    expect(payload.userErrors[0].field).toContain('login')
    expect(await getUser(api, first.id)).toEqual(first)
    expect(await getUser(api, second.id)).toEqual(second)
  })

  test('updating a user that does not exist is NOT_FOUND and creates nothing', async () => {
    const before = await userCount()
    const payload = await update('usr_doesnotexist', { department: 'Sales' })
    expect(payload.user).toBeNull()
    expect(payload.userErrors.map((error: any) => error.code)).toEqual(['NOT_FOUND'])
    expect(await userCount()).toBe(before)
  })
})

describe('invalid list filters', () => {
  test('an unknown status in filter.status is refused by GraphQL validation as BAD_USER_INPUT', async () => {
    const response = await api.gql('{ users(filter: { status: [ACTIVE, BOGUS] }) { totalCount } }')
    expect(response.status).toBe(400)
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT'])
    expect(response.data).toBeUndefined()
  })

  test('user() with neither id nor login is a top-level BAD_USER_INPUT on ["id"]', async () => {
    const response = await api.gql('{ user { id } }')
    expect(response.errors?.map((error) => error.extensions)).toEqual([{ code: 'BAD_USER_INPUT', field: ['id'] }])
  })

  test('an unknown status inside search is a top-level BAD_USER_INPUT error on ["filter","search"]', async () => {
    await createUser(api)
    const response = await listUsers('status eq "BOGUS"')
    expect(response.errors).toHaveLength(1)
    expect(response.errors![0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: ['filter', 'search'] })
    expect(response.errors![0].message).toContain('BOGUS')
    expect(response.data?.users ?? null).toBeNull()
  })

  test.each([
    ['a comparison without a value', 'profile.department eq'],
    ['an unbalanced parenthesis', '(status eq "ACTIVE"'],
    ['an unknown operator', 'profile.department is "Sales"'],
    ['a dangling and', 'status eq "ACTIVE" and'],
    ['an unknown attribute', 'nickname eq "Ada"'],
    ['a date attribute compared with something that is not a date', 'lastUpdated gt "yesterday"'],
  ])(
    'a malformed SCIM filter (%s) is a top-level BAD_USER_INPUT error on ["filter","search"]',
    async (_name, search) => {
      const response = await listUsers(search)
      expect(response.errors).toHaveLength(1)
      expect(response.errors![0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: ['filter', 'search'] })
      expect(response.data?.users ?? null).toBeNull()
    },
  )

  // api.md: "a SCIM `search` at most 1,000".
  test('a search of 1,000 characters is parsed; 1,001 is refused with BAD_USER_INPUT on ["filter","search"]', async () => {
    const search = (filter: string) =>
      api.gql('query($s: String) { users(filter: { search: $s }) { totalCount } }', { s: filter })
    const clause = 'profile.login eq "x"'
    const longest = await search(clause + ' '.repeat(1000 - clause.length))
    expect(longest.errors).toBeUndefined()
    const over = await search(clause + ' '.repeat(1001 - clause.length))
    expect(over.errors?.map((error) => error.extensions)).toEqual([
      { code: 'BAD_USER_INPUT', field: ['filter', 'search'] },
    ])
  })

  // api.md: "a filter `q` at most 255 characters".
  test('a q of 255 characters is accepted; 256 is refused with BAD_USER_INPUT on ["filter","q"]', async () => {
    const search = (q: string) => api.gql('query($q: String) { users(filter: { q: $q }) { totalCount } }', { q })
    const longest = await search('q'.repeat(255))
    expect(longest.errors).toBeUndefined()
    expect(longest.data.users.totalCount).toBe(0)
    const over = await search('q'.repeat(256))
    expect(over.errors?.map((error) => error.extensions)).toEqual([{ code: 'BAD_USER_INPUT', field: ['filter', 'q'] }])
  })
})

describe('one-time tokens', () => {
  const SET_PASSWORD = `mutation($input: SetPasswordInput!) { setPassword(input: $input) { user { id status } userErrors { code field } } }`

  test('setPassword with a garbage token is INVALID_TOKEN on token', async () => {
    const response = await api.gql(SET_PASSWORD, { input: { token: 'act_not-a-real-token', password: PASSWORD } })
    expect(response.data.setPassword).toEqual({ user: null, userErrors: [{ code: 'INVALID_TOKEN', field: ['token'] }] })
  })

  test('setPassword with a too-short password is a VALIDATION error, and the activation token still works afterwards', async () => {
    const { user, activationToken } = await createUser(api)
    const short = await api.gql(SET_PASSWORD, { input: { token: activationToken, password: 'short' } })
    expect(short.data.setPassword).toEqual({ user: null, userErrors: [{ code: 'VALIDATION', field: ['password'] }] })
    expect(await getUser(api, user.id)).toEqual(user)

    const completed = await api.gql(SET_PASSWORD, { input: { token: activationToken, password: PASSWORD } })
    expect(completed.data.setPassword).toEqual({ user: { id: user.id, status: 'ACTIVE' }, userErrors: [] })
  })
})

test('login and email cannot be cleared by an update, and the user is unchanged', async () => {
  const { user } = await createUser(api)
  for (const profile of [{ login: null }, { email: null }]) {
    const response = await api.gql(
      `mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { id } userErrors { code field } } }`,
      { input: { id: user.id, profile } },
    )
    expect(response.data.updateUser.userErrors[0]).toMatchObject({
      code: 'VALIDATION',
      field: ['profile', Object.keys(profile)[0]],
    })
  }
  expect(await getUser(api, user.id)).toEqual(user)
})
