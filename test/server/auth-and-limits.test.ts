import { usingPostgres } from '../support/backend'
import { startTestServer, type TestServer } from '../support/harness'
import { createUser } from '../support/users'

let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

const ALL_STATUSES = '[STAGED, PROVISIONED, ACTIVE, RECOVERY, PASSWORD_EXPIRED, LOCKED_OUT, SUSPENDED, DEPROVISIONED]'

/** Every user in the directory, whatever its status (read with the admin token). */
async function userCount(server: TestServer = api): Promise<number> {
  const response = await server.gql(`{ users(filter: { status: ${ALL_STATUSES} }) { totalCount } }`)
  expect(response.errors).toBeUndefined()
  return response.data.users.totalCount
}

async function tokenCount(): Promise<number> {
  const response = await api.gql('{ apiTokens { id } }')
  return response.data.apiTokens.length
}

const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } userErrors { code field } } }`
const newUserInput = (login: string) => ({ input: { profile: { login, email: login } } })

/** POST a raw body to /graphql with the admin token. */
async function post(body: string, contentType = 'application/json') {
  const response = await fetch(api.url, {
    method: 'POST',
    headers: { 'content-type': contentType, authorization: `Bearer ${api.adminToken}` },
    body,
  })
  return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() }
}

const ALL_USER_FIELDS = `id status transitioningToStatus
  profile { login email firstName lastName displayName department title employeeNumber managerId mobilePhone custom }
  credentials { hasPassword } created activated statusChanged lastLogin lastUpdated passwordChanged`

const ALL_EVENT_FIELDS = `id sequence cursor type published actor { id type displayName } target { id type displayName }
  targets { id type displayName } outcome { result reason } data`

describe('authentication', () => {
  test('a query without an Authorization header is UNAUTHENTICATED with HTTP 401', async () => {
    const response = await api.gql('{ users { totalCount } }', {}, null)
    expect(response.status).toBe(401)
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED'])
    expect(response.data?.users ?? null).toBeNull()
  })

  test('an unknown token is UNAUTHENTICATED with HTTP 401', async () => {
    const response = await api.gql('{ viewer { tokenId } }', {}, 'lgw_this-token-was-never-issued')
    expect(response.status).toBe(401)
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED'])
    expect(response.data?.viewer ?? null).toBeNull()
  })

  test('a refusal before execution answers in the media type the client asked for', async () => {
    for (const [accept, expected] of [
      ['application/graphql-response+json', 'application/graphql-response+json'],
      ['application/json', 'application/json'],
      ['application/graphql-response+json, application/json;q=0.9', 'application/graphql-response+json'],
    ]) {
      const response = await fetch(`${api.url}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept, authorization: 'Bearer lgw_never-issued' },
        body: JSON.stringify({ query: '{ viewer { tokenId } }' }),
      })
      expect({ accept, status: response.status, type: response.headers.get('content-type') }).toEqual({
        accept,
        status: 401,
        type: expect.stringMatching(new RegExp(`^${expected.replace('+', '\\+')}`)),
      })
      expect((await response.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED')
    }
  })

  test('introspection works without a token', async () => {
    const response = await api.gql('{ __schema { queryType { name } } }', {}, null)
    expect(response.status).toBe(200)
    expect(response.errors).toBeUndefined()
    expect(response.data).toEqual({ __schema: { queryType: { name: 'Query' } } })
  })
})

describe('scopes', () => {
  test('a token with users:read can read users but cannot create them, and nothing is created', async () => {
    await createUser(api)
    const reader = await api.tokenWith('users:read')
    const before = await userCount()

    const read = await api.gql('{ users { totalCount edges { node { id profile { login } } } } }', {}, reader)
    expect(read.errors).toBeUndefined()
    expect(read.data.users.totalCount).toBeGreaterThan(0)

    const created = await api.gql(CREATE_USER, newUserInput('not-created@example.com'), reader)
    expect(created.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN'])
    expect(created.data?.createUser ?? null).toBeNull()
    expect(await userCount()).toBe(before)
    expect((await api.gql('{ user(login: "not-created@example.com") { id } }')).data.user).toBeNull()
  })

  test('a token without events:read gets FORBIDDEN on events, at the top level and under a user', async () => {
    const { user } = await createUser(api)
    const reader = await api.tokenWith('users:read')

    const events = await api.gql('{ events { totalCount edges { node { id type } } } }', {}, reader)
    expect(events.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN'])
    expect(events.data?.events ?? null).toBeNull()

    const nested = await api.gql(
      'query($id: ID!) { user(id: $id) { id events { totalCount } } }',
      { id: user.id },
      reader,
    )
    expect(nested.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN'])
    expect(nested.data?.user ?? null).toBeNull()
  })

  test('a token without tokens:manage cannot create API tokens, and none is created', async () => {
    const manager = await api.tokenWith('users:read', 'users:manage')
    const before = await tokenCount()
    const response = await api.gql(
      'mutation { createApiToken(input: { name: "escalation", scopes: ["tokens:manage"] }) { token userErrors { code } } }',
      {},
      manager,
    )
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN'])
    expect(response.data?.createApiToken ?? null).toBeNull()
    expect(await tokenCount()).toBe(before)
  })
})

describe('API tokens', () => {
  const CREATE_TOKEN = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) {
    token apiToken { id name scopes revokedAt } userErrors { code message field } } }`
  const REVOKE_TOKEN = `mutation($id: ID!) { revokeApiToken(input: { id: $id }) { apiToken { id revokedAt } userErrors { code field } } }`

  test('createApiToken returns a secret that authenticates as the new token with exactly its scopes', async () => {
    const response = await api.gql(CREATE_TOKEN, {
      input: { name: 'reporting', scopes: ['users:read', 'events:read'] },
    })
    const { token, apiToken, userErrors } = response.data.createApiToken
    expect(userErrors).toEqual([])
    expect(token).toEqual(expect.any(String))
    expect(apiToken).toMatchObject({ name: 'reporting', revokedAt: null })

    const viewer = await api.gql('{ viewer { tokenId name scopes } }', {}, token)
    expect(viewer.status).toBe(200)
    expect(viewer.data.viewer.tokenId).toBe(apiToken.id)
    expect(viewer.data.viewer.name).toBe('reporting')
    expect([...viewer.data.viewer.scopes].sort()).toEqual(['events:read', 'users:read'])

    // The scopes are the ones granted: users:read works, users:manage does not.
    expect((await api.gql('{ users { totalCount } }', {}, token)).errors).toBeUndefined()
    const create = await api.gql(CREATE_USER, newUserInput('by-reporting@example.com'), token)
    expect(create.errors?.[0].extensions?.code).toBe('FORBIDDEN')
  })

  test('an unknown scope is a VALIDATION userError on scopes, and no token is created', async () => {
    const before = await tokenCount()
    const response = await api.gql(CREATE_TOKEN, { input: { name: 'bad', scopes: ['users:read', 'users:destroy'] } })
    const payload = response.data.createApiToken
    expect(payload.token).toBeNull()
    expect(payload.apiToken).toBeNull()
    expect(payload.userErrors).toHaveLength(1)
    expect(payload.userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['scopes'] })
    expect(payload.userErrors[0].message).toContain('users:destroy')
    expect(await tokenCount()).toBe(before)
  })

  test('a revoked token is UNAUTHENTICATED afterwards, and revoking it again is a userError that changes nothing', async () => {
    const created = (await api.gql(CREATE_TOKEN, { input: { name: 'short-lived', scopes: ['users:read'] } })).data
      .createApiToken
    expect((await api.gql('{ viewer { tokenId } }', {}, created.token)).status).toBe(200)

    const revoked = (await api.gql(REVOKE_TOKEN, { id: created.apiToken.id })).data.revokeApiToken
    expect(revoked.userErrors).toEqual([])
    expect(revoked.apiToken.id).toBe(created.apiToken.id)
    expect(revoked.apiToken.revokedAt).toEqual(expect.any(String))

    const after = await api.gql('{ users { totalCount } }', {}, created.token)
    expect(after.status).toBe(401)
    expect(after.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED'])

    const again = (await api.gql(REVOKE_TOKEN, { id: created.apiToken.id })).data.revokeApiToken
    expect(again.apiToken).toBeNull()
    expect(again.userErrors).toEqual([{ code: 'INVALID_TRANSITION', field: ['id'] }])
    const stored = (await api.gql('{ apiTokens { id revokedAt } }')).data.apiTokens.find(
      (token: any) => token.id === created.apiToken.id,
    )
    expect(stored.revokedAt).toBe(revoked.apiToken.revokedAt)
  })

  test('revoking a token that does not exist is NOT_FOUND', async () => {
    const response = await api.gql(REVOKE_TOKEN, { id: 'tok_doesnotexist' })
    expect(response.data.revokeApiToken).toEqual({ apiToken: null, userErrors: [{ code: 'NOT_FOUND', field: ['id'] }] })
  })
})

describe('rate limit', () => {
  test('over RATE_LIMIT_PER_MINUTE a token gets HTTP 429 with an integer Retry-After, nothing runs, and other tokens are unaffected', async () => {
    const limited = await startTestServer({ RATE_LIMIT_PER_MINUTE: '3' })
    try {
      const busy = await limited.tokenWith('users:read', 'users:manage')
      const other = await limited.tokenWith('users:read')
      for (let i = 0; i < 3; i++) {
        const response = await limited.gql('{ viewer { tokenId } }', {}, busy)
        expect(response.status).toBe(200)
        expect(response.errors).toBeUndefined()
      }

      const fourth = await limited.gql(CREATE_USER, newUserInput('over-the-limit@example.com'), busy)
      expect(fourth.status).toBe(429)
      expect(fourth.errors?.map((error) => error.extensions?.code)).toEqual(['RATE_LIMITED'])
      const retryAfter = fourth.headers.get('retry-after')
      expect(retryAfter).toMatch(/^\d+$/)
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1)
      expect(Number(retryAfter)).toBeLessThanOrEqual(60)

      const unaffected = await limited.gql('{ user(login: "over-the-limit@example.com") { id } }', {}, other)
      expect(unaffected.status).toBe(200)
      expect(unaffected.errors).toBeUndefined()
      expect(unaffected.data.user).toBeNull() // the refused mutation did not run
    } finally {
      await limited.close()
    }
  })
})

describe('query limits', () => {
  test('a document deeper than MAX_QUERY_DEPTH is QUERY_TOO_COMPLEX and nothing executes', async () => {
    const shallow = await startTestServer({ MAX_QUERY_DEPTH: '3' })
    try {
      // depth 4: createUser > user > profile > login
      const deep = await shallow.gql(
        `mutation($input: CreateUserInput!) { createUser(input: $input) { user { profile { login } } } }`,
        newUserInput('too-deep@example.com'),
      )
      expect(deep.status).toBe(400)
      expect(deep.errors?.map((error) => error.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX'])
      expect(deep.data?.createUser ?? null).toBeNull()

      // depth 3 is still allowed, and shows the mutation above did not run
      const atLimit = await shallow.gql(`{ users(filter: { q: "too-deep" }) { pageInfo { hasNextPage } } }`)
      expect(atLimit.errors).toBeUndefined()
      expect((await shallow.gql(`{ users(filter: { q: "too-deep" }) { totalCount } }`)).data.users.totalCount).toBe(0)
    } finally {
      await shallow.close()
    }
  })

  test('the default budget admits users(first: 200) with every User field and events(first: 20) nested', async () => {
    await createUser(api)
    const response = await api.gql(`{ users(first: 200) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { ${ALL_USER_FIELDS}
        events(first: 20) { totalCount edges { cursor node { id type published } } } } } } }`)
    expect(response.status).toBe(200)
    expect(response.errors).toBeUndefined()
    expect(response.data.users.edges.length).toBeGreaterThan(0)
    expect(response.data.users.edges[0].node.events.edges.length).toBeGreaterThan(0)
  })

  test('the default budget admits events(first: 200) with every field', async () => {
    const response = await api.gql(`{ events(first: 200) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { ${ALL_EVENT_FIELDS} } } } }`)
    expect(response.status).toBe(200)
    expect(response.errors).toBeUndefined()
    expect(response.data.events.edges.length).toBeGreaterThan(0)
  })

  test('200 users with 200 events each is refused as QUERY_TOO_COMPLEX with HTTP 400', async () => {
    const response = await api.gql(`{ users(first: 200) { edges { node { id
      events(first: 200) { edges { node { id type } } } } } } }`)
    expect(response.status).toBe(400)
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX'])
    expect(response.data?.users ?? null).toBeNull()
  })

  test('the verdict follows the variables: one document is admitted with small pages and refused with large ones, every time', async () => {
    const document = `query($users: Int, $events: Int) { users(first: $users) { edges { node { id
      events(first: $events) { edges { node { id type } } } } } } }`
    const codes = async (variables: Record<string, number>) =>
      (await api.gql(document, variables)).errors?.map((error) => error.extensions?.code) ?? []
    for (let round = 0; round < 2; round++) {
      expect(await codes({ users: 2, events: 2 })).toEqual([])
      expect(await codes({ users: 200, events: 200 })).toEqual(['QUERY_TOO_COMPLEX'])
    }
  })

  test('a mutation whose selection is over the complexity budget is refused before it runs, so no user is created', async () => {
    // Each alias is a 200-event page with every field; twelve of them exceed the default budget.
    const pages = Array.from(
      { length: 12 },
      (_, i) => `page${i}: events(first: 200) { edges { node { ${ALL_EVENT_FIELDS} } } }`,
    ).join('\n')
    const before = await userCount()
    const response = await api.gql(
      `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id ${pages} } } }`,
      newUserInput('too-costly@example.com'),
    )
    expect(response.status).toBe(400)
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX'])
    expect(await userCount()).toBe(before)
    expect((await api.gql('{ user(login: "too-costly@example.com") { id } }')).data.user).toBeNull()
  })
})

describe('malformed requests', () => {
  test('a body that is not JSON gives HTTP 400 with a GraphQL-shaped BAD_USER_INPUT error', async () => {
    const response = await post('{"query": "{ viewer { tokenId } }"')
    expect(response.status).toBe(400)
    expect(response.contentType).toMatch(/json/)
    const body = JSON.parse(response.text)
    expect(body.errors).toEqual([
      expect.objectContaining({ message: expect.any(String), extensions: { code: 'BAD_USER_INPUT' } }),
    ])
    expect(response.text).not.toMatch(/<html|at \w+ \(/i) // no HTML error page, no stack trace
  })

  test('a JSON body without a query gives HTTP 400 BAD_USER_INPUT', async () => {
    const response = await post(JSON.stringify({ variables: { id: 'x' } }))
    expect(response.status).toBe(400)
    const body = JSON.parse(response.text)
    expect(body.errors.map((error: any) => error.extensions.code)).toEqual(['BAD_USER_INPUT'])
  })

  test('a GraphQL syntax error gives HTTP 400 BAD_USER_INPUT', async () => {
    const response = await api.gql('{ users { totalCount ')
    expect(response.status).toBe(400)
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT'])
    expect(response.data).toBeUndefined()
  })

  test('a field that is not in the schema gives HTTP 400 BAD_USER_INPUT', async () => {
    const response = await api.gql('{ users { totalCount noSuchField } }')
    expect(response.status).toBe(400)
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT'])
  })
})

describe('HTTP endpoints', () => {
  const origin = () => new URL(api.url).origin

  test('GET /healthz answers 200', async () => {
    const response = await fetch(`${origin()}/healthz`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: 'ok' })
  })

  test('GET /readyz answers 200 and names the database in use', async () => {
    const response = await fetch(`${origin()}/readyz`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ status: 'ready', database: usingPostgres ? 'postgres' : 'embedded' })
  })

  test('GET /graphql from a browser serves GraphiQL whose scripts and styles all come from this origin', async () => {
    const response = await fetch(api.url, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await response.text()

    const assets = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']([^"']+)["']/gi)].map(
      (match) => match[1],
    )
    expect(assets.some((asset) => /\.js(\?|$)/.test(asset))).toBe(true)
    expect(assets.some((asset) => /\.css(\?|$)/.test(asset))).toBe(true)
    for (const match of html.matchAll(/(?:https?:)?\/\/[A-Za-z0-9.\-]+(?::\d+)?/g)) {
      expect(new URL(match[0], api.url).origin).toBe(origin())
    }
    for (const asset of assets.filter((asset) => !asset.startsWith('data:'))) {
      const url = new URL(asset, api.url)
      expect(url.origin).toBe(origin())
      expect({ asset, status: (await fetch(url)).status }).toEqual({ asset, status: 200 })
    }
  })
})

describe('variables and complexity', () => {
  test('a variable of the wrong type is BAD_USER_INPUT with HTTP 400, not an internal error', async () => {
    const response = await api.gql(
      `query($status: [UserStatus!]) { users(filter: { status: $status }) { totalCount } }`,
      { status: ['BOGUS'] },
    )
    expect(response.status).toBe(400)
    expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT')
  })

  test('a negative page size cannot offset the cost of another field', async () => {
    const response = await api.gql(`{ x: users(first: -1000000) { edges { node { id } } }
      users(first: 200) { edges { node { events(first: 200) { edges { node { id } } } } } } }`)
    expect(response.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX')
  })

  test('a connection without first is priced at the default page size', async () => {
    const nested = Array.from({ length: 3 }, (_, i) => `e${i}: events { edges { node { ${ALL_EVENT_FIELDS} } } }`).join(
      ' ',
    )
    const response = await api.gql(`{ users(first: 200) { edges { node { ${nested} } } } }`)
    expect(response.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX')
  })
})
