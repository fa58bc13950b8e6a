import type { Client } from 'graphql-ws'
import { startTestServer, type TestServer } from '../support/harness'
import { watch } from '../support/subscriptions'
import { createUser, lifecycle } from '../support/users'

/** HTTP and WebSocket share one execution path: the same authentication, rate limit and error masking. */

let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

interface Outcome {
  data?: any
  errors?: { message: string; extensions?: { code?: string } }[]
}

/** One query or mutation over the socket: its result, or the errors the server answered with instead. */
function overSocket(client: Client, query: string, variables: Record<string, unknown> = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let result: Outcome = {}
    client.subscribe(
      { query, variables },
      {
        next: (value) => void (result = value as Outcome),
        error: (error) => (Array.isArray(error) ? resolve({ errors: error }) : reject(error)),
        complete: () => resolve(result),
      },
    )
  })
}

const codes = (outcome: Outcome) => outcome.errors?.map((error) => error.extensions?.code) ?? []
const forgedCursor = Buffer.from('event:99999999999999999999999').toString('base64url')

test('a forged events cursor over the socket is answered as over HTTP: same code, no database text or file paths', async () => {
  const query = `query($after: String) { events(first: 1, after: $after) { totalCount edges { cursor } } }`
  const viaHttp = await api.gql(query, { after: forgedCursor })
  const viaSocket = await overSocket(api.wsClient(), query, { after: forgedCursor })

  expect(codes(viaSocket)).toHaveLength(1)
  expect(codes(viaSocket)).toEqual(codes(viaHttp))
  expect(['BAD_USER_INPUT', 'INTERNAL']).toContain(codes(viaSocket)[0])
  expect(JSON.stringify(viaSocket)).not.toMatch(/prisma|invocation|\/work\/|node_modules|\.ts:\d|at \w+ \(/i)
})

test('a variable of the wrong type over the socket is BAD_USER_INPUT, as over HTTP', async () => {
  const query = `query($status: [UserStatus!]) { users(filter: { status: $status }) { totalCount } }`
  const viaSocket = await overSocket(api.wsClient(), query, { status: ['BOGUS'] })
  expect(codes(viaSocket)).toEqual(['BAD_USER_INPUT'])
  expect(codes(await api.gql(query, { status: ['BOGUS'] }))).toEqual(['BAD_USER_INPUT'])
})

test('a document that does not validate over the socket is BAD_USER_INPUT, as over HTTP', async () => {
  const viaSocket = await overSocket(api.wsClient(), '{ users { totalCount noSuchField } }')
  expect(codes(viaSocket)).toEqual(['BAD_USER_INPUT'])
})

test("queries and mutations over the socket count against the token's rate limit, shared with HTTP", async () => {
  const limited = await startTestServer({ RATE_LIMIT_PER_MINUTE: '3' })
  try {
    const busy = await limited.tokenWith('users:read', 'users:manage')
    const other = await limited.tokenWith('users:read')
    const socket = limited.wsClient(busy)
    for (let i = 0; i < 2; i++)
      expect(await overSocket(socket, '{ viewer { tokenId } }')).toEqual({
        data: { viewer: { tokenId: expect.any(String) } },
      })
    expect((await limited.gql('{ viewer { tokenId } }', {}, busy)).status).toBe(200)

    const refused = await overSocket(
      socket,
      `mutation { createUser(input: { profile: { login: "over@example.com", email: "over@example.com" } }) { user { id } } }`,
    )
    expect(codes(refused)).toEqual(['RATE_LIMITED'])
    expect((await limited.gql('{ viewer { tokenId } }', {}, busy)).status).toBe(429)

    const unaffected = await overSocket(limited.wsClient(other), '{ user(login: "over@example.com") { id } }')
    expect(unaffected).toEqual({ data: { user: null } }) // the refused mutation did not run
  } finally {
    await limited.close()
  }
})

test("a revoked token's live subscription ends with UNAUTHENTICATED, and its socket runs nothing more", async () => {
  const watched = (await createUser(api, { password: 'correct horse battery' })).user
  const issued = (
    await api.gql(
      `mutation { createApiToken(input: { name: "soon revoked", scopes: ["users:read"] }) { token apiToken { id } } }`,
    )
  ).data.createApiToken
  const socket = api.wsClient(issued.token)
  const subscription = watch(
    socket,
    `subscription($filter: UserStatusChangedFilter) { userStatusChanged(filter: $filter) { status } }`,
    {
      filter: { userIds: [watched.id] },
    },
  )
  let suspended = false
  await subscription.untilDelivered(async () => {
    await lifecycle(api, suspended ? 'unsuspendUser' : 'suspendUser', watched.id)
    suspended = !suspended
  })
  const delivered = subscription.results.length

  const revoked = await api.gql(`mutation($id: ID!) { revokeApiToken(input: { id: $id }) { userErrors { code } } }`, {
    id: issued.apiToken.id,
  })
  expect(revoked.data.revokeApiToken.userErrors).toEqual([])

  const results = await subscription.ended
  expect(results.slice(delivered).map(codes)).toEqual([['UNAUTHENTICATED']])
  expect(codes(await overSocket(socket, '{ viewer { tokenId } }'))).toEqual(['UNAUTHENTICATED'])
})

test('a subscription whose token is revoked by another process ends at its next event', async () => {
  // Without a token cache, "within TOKEN_CACHE_SECONDS" is at once.
  const uncached = await startTestServer({ TOKEN_CACHE_SECONDS: '0' })
  try {
    const watched = (await createUser(uncached, { password: 'correct horse battery' })).user
    const issued = (
      await uncached.gql(
        `mutation { createApiToken(input: { name: "revoked elsewhere", scopes: ["users:read"] }) { token apiToken { id } } }`,
      )
    ).data.createApiToken
    const subscription = watch(
      uncached.wsClient(issued.token),
      `subscription($filter: UserStatusChangedFilter) { userStatusChanged(filter: $filter) { status } }`,
      {
        filter: { userIds: [watched.id] },
      },
    )
    let suspended = false
    const toggle = async () => {
      await lifecycle(uncached, suspended ? 'unsuspendUser' : 'suspendUser', watched.id)
      suspended = !suspended
    }
    await subscription.untilDelivered(toggle)
    const delivered = subscription.results.length

    // Another process revokes in the shared database: this one is not told, and learns it on its next lookup.
    await uncached.database.db.prisma.apiToken.update({
      where: { id: issued.apiToken.id },
      data: { revokedAt: new Date() },
    })
    await toggle()
    const results = await subscription.ended
    expect(results.slice(delivered).map(codes)).toEqual([['UNAUTHENTICATED']])
  } finally {
    await uncached.close()
  }
})
