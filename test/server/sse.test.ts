import { refusal, sseClient } from '../support/event-streams'
import { startTestServer, type TestServer } from '../support/harness'
import { watch } from '../support/subscriptions'
import { createUser, lifecycle } from '../support/users'

/**
 * Subscriptions (and queries, mutations) over Server-Sent Events at /graphql/stream hold the rules
 * of HTTP and the WebSocket: the same token, scopes, input limits, rate limit, masking and
 * revocation. A refusal is an HTTP status with a typed GraphQL error body, never a 500.
 */

let api: TestServer
const logLines: string[] = []
beforeAll(async () => {
  api = await startTestServer({}, { logLines })
})
afterAll(() => api.close())

const STATUS_CHANGES = `subscription($filter: UserStatusChangedFilter) {
  userStatusChanged(filter: $filter) { previousStatus status user { id } } }`
const codes = (result: { errors?: { extensions?: { code?: string } }[] }) =>
  result.errors?.map((error) => error.extensions?.code) ?? []

/** Suspends and unsuspends the user in turn: each call commits one status change. */
function toggler(userId: string, server: TestServer = api) {
  let suspended = false
  return async () => {
    await lifecycle(server, suspended ? 'unsuspendUser' : 'suspendUser', userId)
    suspended = !suspended
  }
}

/** POSTs a raw body to the stream endpoint, as a client asking for an event stream. */
async function postToStream(body: string, token: string | null = api.adminToken, accept = 'text/event-stream') {
  const response = await fetch(`${api.url}/stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  })
  const text = await response.text()
  return { status: response.status, codes: codes(JSON.parse(text)), text }
}

test('a subscription over SSE receives the status change a mutation commits', async () => {
  const user = (await createUser(api, { password: 'correct horse battery' })).user
  const subscription = watch(sseClient(api.url, await api.tokenWith('users:read')), STATUS_CHANGES, {
    filter: { userIds: [user.id] },
  })
  const first = await subscription.untilDelivered(toggler(user.id))
  expect(first).toEqual({
    data: { userStatusChanged: { previousStatus: 'ACTIVE', status: 'SUSPENDED', user: { id: user.id } } },
  })
  subscription.unsubscribe()
})

test('without a token a subscription is refused with HTTP 401 UNAUTHENTICATED, and so is an unknown token', async () => {
  const anonymous = watch(sseClient(api.url, null), STATUS_CHANGES)
  expect(await refusal(await anonymous.ended.catch((error) => error))).toMatchObject({
    status: 401,
    codes: ['UNAUTHENTICATED'],
  })
  const unknown = watch(sseClient(api.url, 'lgw_this-token-was-never-issued'), STATUS_CHANGES)
  expect(await refusal(await unknown.ended.catch((error) => error))).toMatchObject({
    status: 401,
    codes: ['UNAUTHENTICATED'],
  })
})

test('a token without users:read gets FORBIDDEN and no event, however many changes commit', async () => {
  const user = (await createUser(api, { password: 'correct horse battery' })).user
  const subscription = watch(sseClient(api.url, await api.tokenWith('groups:read')), STATUS_CHANGES, {
    filter: { userIds: [user.id] },
  })
  const results = await subscription.ended
  await toggler(user.id)()
  expect(results.map(codes)).toEqual([['FORBIDDEN']])
  expect(results[0].data ?? null).toBeNull()
})

test("a revoked token's SSE subscription ends with UNAUTHENTICATED", async () => {
  const user = (await createUser(api, { password: 'correct horse battery' })).user
  const issued = (
    await api.gql(
      `mutation { createApiToken(input: { name: "soon revoked", scopes: ["users:read"] }) { token apiToken { id } } }`,
    )
  ).data.createApiToken
  const subscription = watch(sseClient(api.url, issued.token), STATUS_CHANGES, { filter: { userIds: [user.id] } })
  await subscription.untilDelivered(toggler(user.id))
  const delivered = subscription.results.length

  const revoked = await api.gql(`mutation($id: ID!) { revokeApiToken(input: { id: $id }) { userErrors { code } } }`, {
    id: issued.apiToken.id,
  })
  expect(revoked.data.revokeApiToken.userErrors).toEqual([])
  const results = await subscription.ended
  expect(results.slice(delivered).map(codes)).toEqual([['UNAUTHENTICATED']])
})

describe('bad input is a typed error with a 4xx status, and runs nothing', () => {
  test('a document that does not parse or validate is BAD_USER_INPUT (400)', async () => {
    expect(await postToStream(JSON.stringify({ query: 'subscription { userStatusChanged {' }))).toMatchObject({
      status: 400,
      codes: ['BAD_USER_INPUT'],
    })
    expect(await postToStream(JSON.stringify({ query: 'subscription { noSuchField }' }))).toMatchObject({
      status: 400,
      codes: ['BAD_USER_INPUT'],
    })
  })

  test('a body without a query, a query that is not a string, or JSON that does not parse is BAD_USER_INPUT', async () => {
    for (const body of ['{}', '{"query": 42}', '{"query": '])
      expect(await postToStream(body)).toMatchObject({ status: 400, codes: ['BAD_USER_INPUT'] })
  })

  test('a body over 1 MB is refused with 413, a document over 100 KB with 400, both BAD_USER_INPUT', async () => {
    const huge = JSON.stringify({ query: `subscription { userStatusChanged { status } }`, pad: 'x'.repeat(1_100_000) })
    expect(await postToStream(huge)).toMatchObject({ status: 413, codes: ['BAD_USER_INPUT'] })
    const long = JSON.stringify({ query: `subscription { userStatusChanged { status } } ${'#'.repeat(110_000)}` })
    expect(await postToStream(long)).toMatchObject({ status: 400, codes: ['BAD_USER_INPUT'] })
  })

  test('a query over the complexity budget is QUERY_TOO_COMPLEX before it runs', async () => {
    const query = `{ users(first: 200) { edges { node { groups(first: 200) { edges { node {
      members(first: 200) { edges { node { id } } } } } } } } } }`
    const viaHttp = await api.gql(query)
    expect(codes(viaHttp)).toEqual(['QUERY_TOO_COMPLEX'])
    expect(await postToStream(JSON.stringify({ query }))).toMatchObject({ status: 400, codes: ['QUERY_TOO_COMPLEX'] })
  })

  test('a request that does not ask for an event stream is told to (406, BAD_USER_INPUT)', async () => {
    const body = JSON.stringify({ query: '{ viewer { tokenId } }' })
    expect(await postToStream(body, api.adminToken, 'application/json')).toMatchObject({
      status: 406,
      codes: ['BAD_USER_INPUT'],
    })
  })
})

test('queries and mutations over SSE run with the same scopes as over HTTP', async () => {
  const reader = await api.tokenWith('users:read')
  const viewer = await nextResult(sseClient(api.url, reader), '{ viewer { scopes } }')
  expect(viewer).toEqual({ data: { viewer: { scopes: ['users:read'] } } })

  const login = `sse.${Date.now()}@example.com`
  const create = `mutation { createUser(input: { profile: { login: "${login}", email: "${login}" } }) { user { id } } }`
  const refused = await nextResult(sseClient(api.url, reader), create)
  expect(codes(refused)).toEqual(['FORBIDDEN'])
  expect((await api.gql(`{ user(login: "${login}") { id } }`)).data.user).toBeNull()
  const created = await nextResult(sseClient(api.url, api.adminToken), create)
  expect(created.data.createUser.user.id).toEqual(expect.any(String))
})

test('each operation over SSE is logged with its transport, and never with the token', async () => {
  const token = await api.tokenWith('users:read')
  await nextResult(sseClient(api.url, token), 'query Whoami { viewer { tokenId } }')
  const lines = logLines.map((line) => JSON.parse(line)).filter((line) => line.operation === 'Whoami')
  expect(lines).toEqual([expect.objectContaining({ transport: 'sse', msg: 'operation started' })])
  expect(logLines.join('\n')).not.toContain(token)
})

test('an SSE subscription counts once against the rate limit, when it starts', async () => {
  const limited = await startTestServer({ RATE_LIMIT_PER_MINUTE: '10' })
  try {
    const user = (await createUser(limited, { password: 'correct horse battery' })).user
    const token = await limited.tokenWith('users:read')
    const subscription = watch(sseClient(limited.url, token), STATUS_CHANGES, { filter: { userIds: [user.id] } })
    const change = toggler(user.id, limited)
    await subscription.untilDelivered(change)
    await change()
    await change()
    await subscription.until(() => subscription.results.length >= 3)
    // Three events delivered, one request spent: nine are left, the last one spent over SSE.
    for (let spent = 1; spent < 9; spent++)
      expect((await limited.gql('{ viewer { tokenId } }', {}, token)).status).toBe(200)
    expect(await nextResult(sseClient(limited.url, token), '{ viewer { scopes } }')).toEqual({
      data: { viewer: { scopes: ['users:read'] } },
    })
    const refused = await refusal(await watch(sseClient(limited.url, token), STATUS_CHANGES).ended.catch((e) => e))
    expect(refused).toMatchObject({ status: 429, codes: ['RATE_LIMITED'] })
    expect(Number(refused.retryAfter)).toBeGreaterThan(0)
    subscription.unsubscribe()
  } finally {
    await limited.close()
  }
})

/** The one result of a query or mutation sent over SSE. */
function nextResult(client: ReturnType<typeof sseClient>, query: string): Promise<any> {
  return watch(client, query).ended.then(([result]) => result)
}
