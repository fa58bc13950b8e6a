import { startTestServer, type TestServer } from '../support/harness'
import { createUser } from '../support/users'

/**
 * api.md "Input limits": every argument is checked against its declared rules before anything
 * runs. A query is refused with a top-level BAD_USER_INPUT naming the argument path; a mutation
 * answers VALIDATION userErrors naming the path inside its input.
 */

let api: TestServer
beforeAll(async () => {
  api = await startTestServer({}, { recordSql: true })
})
afterAll(() => api.close())

/** Runs a request and returns its response with the SQL statements it sent (beyond the token lookup). */
async function withSql(query: string, variables: Record<string, unknown> = {}) {
  const from = api.sql.length
  const response = await api.gql(query, variables)
  return { response, sql: api.sql.slice(from).filter((statement) => !statement.includes('"ApiToken"')) }
}

const types = (count: number) => Array.from({ length: count }, (_, i) => `user.type.${i}`)

describe('queries are refused with BAD_USER_INPUT naming the argument, and nothing runs', () => {
  test.each([
    [
      'groups(filter: { q }) over 255 characters',
      'query($q: String) { groups(filter: { q: $q }) { totalCount } }',
      { q: 'g'.repeat(256) },
      ['filter', 'q'],
      'groups',
    ],
    [
      'apps(filter: { q }) over 255 characters',
      'query($q: String) { apps(filter: { q: $q }) { totalCount } }',
      { q: 'a'.repeat(256) },
      ['filter', 'q'],
      'apps',
    ],
    [
      'events(filter: { types }) with 101 types',
      'query($types: [String!]) { events(filter: { types: $types }) { totalCount } }',
      { types: types(101) },
      ['filter', 'types'],
      'events',
    ],
    [
      'nodes(ids) with 201 ids',
      'query($ids: [ID!]!) { nodes(ids: $ids) { id } }',
      { ids: Array.from({ length: 201 }, (_, i) => `usr_${i}`) },
      ['ids'],
      'nodes',
    ],
  ])('%s', async (_name, query, variables, field, root) => {
    const { response, sql } = await withSql(query, variables)
    expect(response.errors?.map((error) => error.extensions)).toEqual([{ code: 'BAD_USER_INPUT', field }])
    expect(response.data?.[root] ?? null).toBeNull()
    expect(sql).toEqual([])
  })

  test('the argument of a nested field is checked too: User.events(filter: { types }) with 101 types', async () => {
    await createUser(api)
    const { response } = await withSql(
      'query($types: [String!]) { users(first: 1) { edges { node { id events(filter: { types: $types }) { totalCount } } } } }',
      {
        types: types(101),
      },
    )
    expect(response.errors?.map((error) => error.extensions)).toEqual([
      { code: 'BAD_USER_INPUT', field: ['filter', 'types'] },
    ])
  })

  test('at the limits the same queries are answered', async () => {
    const answered = await api.gql(
      `query($q: String, $types: [String!], $ids: [ID!]!) {
        groups(filter: { q: $q }) { totalCount } apps(filter: { q: $q }) { totalCount }
        events(filter: { types: $types }) { totalCount } nodes(ids: $ids) { id } }`,
      { q: 'x'.repeat(255), types: types(100), ids: Array.from({ length: 200 }, (_, i) => `usr_${i}`) },
    )
    expect(answered.errors).toBeUndefined()
    expect(answered.data).toEqual({
      groups: { totalCount: 0 },
      apps: { totalCount: 0 },
      events: { totalCount: 0 },
      nodes: Array(200).fill(null),
    })
  })
})

describe('mutations answer VALIDATION userErrors naming the input path, and change nothing', () => {
  test('a group name over 255 characters is VALIDATION on name, and no group is created', async () => {
    const name = 'n'.repeat(256)
    const response = await api.gql(
      'mutation($input: CreateGroupInput!) { createGroup(input: $input) { group { id } userErrors { code field } } }',
      { input: { name } },
    )
    expect(response.errors).toBeUndefined()
    expect(response.data.createGroup).toEqual({ group: null, userErrors: [{ code: 'VALIDATION', field: ['name'] }] })
    expect(
      (await api.gql('query($q: String) { groups(filter: { q: $q }) { totalCount } }', { q: 'n'.repeat(255) })).data
        .groups.totalCount,
    ).toBe(0)
  })

  test('a list of 101 scopes, which declares no limit of its own, is VALIDATION on scopes, and no token is created', async () => {
    const before = (await api.gql('{ apiTokens { id } }')).data.apiTokens.length
    const scopes = Array.from({ length: 101 }, () => 'users:read')
    const response = await api.gql(
      'mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token userErrors { code field } } }',
      {
        input: { name: 'many scopes', scopes },
      },
    )
    expect(response.data.createApiToken).toEqual({
      token: null,
      userErrors: [{ code: 'VALIDATION', field: ['scopes'] }],
    })
    expect((await api.gql('{ apiTokens { id } }')).data.apiTokens).toHaveLength(before)
  })

  test.each([
    ['createGroup', 'CreateGroupInput', 'group { id }', { name: '   ' }, 'name'],
    ['createApp', 'CreateAppInput', 'app { id }', { name: 'blank', label: ' \t ' }, 'label'],
    ['createApiToken', 'CreateApiTokenInput', 'apiToken { id }', { name: '  ', scopes: ['users:read'] }, 'name'],
    [
      'createGroupRule',
      'CreateGroupRuleInput',
      'groupRule { id }',
      { name: ' ', expression: 'user.department == "x"', assignToGroups: ['grp_x'] },
      'name',
    ],
  ])('%s with a name or label of only whitespace is VALIDATION on it', async (name, type, entity, input, field) => {
    const response = await api.gql(
      `mutation($input: ${type}!) { ${name}(input: $input) { ${entity} userErrors { code field } } }`,
      {
        input,
      },
    )
    expect(response.data[name].userErrors).toEqual([{ code: 'VALIDATION', field: [field] }])
  })

  test('a refused authenticate still answers its non-null flags: success and passwordChangeRequired are false', async () => {
    const response = await api.gql(
      'mutation($input: AuthenticateInput!) { authenticate(input: $input) { success passwordChangeRequired user { id } userErrors { code field } } }',
      { input: { login: '', password: 'whatever' } },
    )
    expect(response.errors).toBeUndefined()
    expect(response.data.authenticate).toEqual({
      success: false,
      passwordChangeRequired: false,
      user: null,
      userErrors: [{ code: 'VALIDATION', field: ['login'] }],
    })
  })

  const manyIds = Array.from({ length: 101 }, (_, i) => `apu_${i}`)
  test.each([
    ['releaseProvisioningHold', 'ReleaseProvisioningHoldInput', 'released', { appId: 'app_x', appUserIds: manyIds }],
    ['discardProvisioningHold', 'DiscardProvisioningHoldInput', 'discarded', { appId: 'app_x', appUserIds: manyIds }],
    ['retryAppProvisioning', 'RetryAppProvisioningInput', 'requeued', { appId: 'app_\u0000' }],
    [
      'importAppUsers',
      'ImportAppUsersInput',
      'created matched unmatched ambiguous unchanged errors dryRun resultsTruncated results { action }',
      { appId: 'app_\u0000' },
    ],
  ])('a refused %s answers its non-null counts as nothing done, never INTERNAL', async (name, type, fields, input) => {
    const response = await api.gql(
      `mutation($input: ${type}!) { ${name}(input: $input) { ${fields} userErrors { code field } } }`,
      { input },
    )
    expect(response.errors).toBeUndefined()
    const payload = response.data[name]
    expect(payload.userErrors).toEqual([{ code: 'VALIDATION', field: [Object.keys(input).at(-1)] }])
    for (const [field, value] of Object.entries(payload))
      if (field !== 'userErrors') expect([0, false, []]).toContainEqual(value)
  })
})

test('text holding U+0000 is refused at the edge, never INTERNAL: VALIDATION in a mutation, BAD_USER_INPUT in a query', async () => {
  const mutation = await api.gql(
    `mutation($input: CreateAppInput!) { createApp(input: $input) { app { id } userErrors { code field } } }`,
    { input: { name: 'nul', label: 'a\u0000b' } },
  )
  expect(mutation.data.createApp).toEqual({
    app: null,
    userErrors: [{ code: 'VALIDATION', field: ['label'] }],
  })
  const query = await api.gql(`query($id: ID!) { app(id: $id) { id } }`, { id: 'app_\u0000' })
  expect(query.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT'])
})
