import WebSocket from 'ws'
import { nextResults, startTestServer, type TestServer } from '../support/harness'
import { uniqueLogin } from '../support/users'

let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

/** POST a raw body to /graphql with the admin token and extra headers. */
async function post(body: string, headers: Record<string, string> = {}) {
  const response = await fetch(api.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${api.adminToken}`, ...headers },
    body,
  })
  const text = await response.text()
  return { status: response.status, contentType: response.headers.get('content-type'), text, body: JSON.parse(text) }
}

/** A refusal as api.md describes it: a GraphQL-shaped body with one BAD_USER_INPUT error, no stack, no HTML. */
function expectRefusal(response: { contentType: string | null; text: string; body: any }) {
  expect(response.contentType).toMatch(/json/)
  expect(response.body.errors).toEqual([
    expect.objectContaining({ message: expect.any(String), extensions: { code: 'BAD_USER_INPUT' } }),
  ])
  expect(response.text).not.toMatch(/<html|at \w+ \(|\/work\/|node_modules/i)
}

const CREATE_USER = `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } userErrors { code field } } }`
const userInput = (login: string, custom?: unknown) => ({
  input: { profile: { login, email: login, ...(custom !== undefined ? { custom } : {}) } },
})
const userExists = async (login: string) =>
  (await api.gql(`query($login: String) { user(login: $login) { id } }`, { login })).data.user !== null

describe('transport limits', () => {
  test('a body over 1 MB is refused with HTTP 413 and a GraphQL-shaped BAD_USER_INPUT', async () => {
    const login = uniqueLogin('huge-body')
    const response = await post(
      JSON.stringify({ query: CREATE_USER, variables: userInput(login, { padding: 'x'.repeat(1_100_000) }) }),
    )
    expect(response.status).toBe(413)
    expectRefusal(response)
    expect(await userExists(login)).toBe(false)
  })

  test('an unknown charset is refused with HTTP 415 and a GraphQL-shaped BAD_USER_INPUT', async () => {
    const response = await post(JSON.stringify({ query: '{ viewer { tokenId } }' }), {
      'content-type': 'application/json; charset=klingon',
    })
    expect(response.status).toBe(415)
    expectRefusal(response)
  })

  test('an unknown content-encoding is refused with HTTP 415 and a GraphQL-shaped BAD_USER_INPUT', async () => {
    const response = await post(JSON.stringify({ query: '{ viewer { tokenId } }' }), { 'content-encoding': 'rot13' })
    expect(response.status).toBe(415)
    expectRefusal(response)
  })
})

describe('document and variables limits', () => {
  test('a document over 100 KB is refused with BAD_USER_INPUT before it runs: nothing is created', async () => {
    const login = uniqueLogin('huge-document')
    const padded = `${CREATE_USER}\n# ${'x'.repeat(100 * 1024)}`
    const response = await post(JSON.stringify({ query: padded, variables: userInput(login) }))
    expect(response.status).toBe(400)
    expectRefusal(response)
    expect(await userExists(login)).toBe(false)
  })

  test('a document with more than 200 aliases is refused with BAD_USER_INPUT; 200 are answered', async () => {
    const aliased = (count: number) =>
      `{ ${Array.from({ length: count }, (_, i) => `a${i}: viewer { tokenId }`).join(' ')} }`
    const refused = await post(JSON.stringify({ query: aliased(201) }))
    expect(refused.status).toBe(400)
    expectRefusal(refused)
    const answered = await api.gql(aliased(200))
    expect(answered.errors).toBeUndefined()
    expect(Object.keys(answered.data)).toHaveLength(200)
  })

  test('variables over 100 KB are refused with BAD_USER_INPUT before they are parsed: nothing is created', async () => {
    const login = uniqueLogin('huge-variables')
    const response = await post(
      JSON.stringify({ query: CREATE_USER, variables: userInput(login, { padding: 'x'.repeat(101 * 1024) }) }),
    )
    expect(response.status).toBe(400)
    expectRefusal(response)
    expect(await userExists(login)).toBe(false)
  })

  test('variables nested 5,000 deep are BAD_USER_INPUT, never INTERNAL or HTTP 500', async () => {
    const login = uniqueLogin('deep-variables')
    const deep = '['.repeat(5000) + ']'.repeat(5000)
    const body = `{"query": ${JSON.stringify(CREATE_USER)}, "variables": {"input": {"profile": {"login": "${login}", "email": "${login}", "custom": {"deep": ${deep}}}}}}`
    const response = await post(body)
    expect(response.status).toBe(400)
    expectRefusal(response)
    expect(await userExists(login)).toBe(false)
  })

  test('variables nested 2,000 deep in a GET request (as deep as a URL allows) are BAD_USER_INPUT too', async () => {
    const url = new URL(api.url)
    url.searchParams.set('query', 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }')
    url.searchParams.set('variables', JSON.stringify({ ids: [] }).replace('[]', '['.repeat(2000) + ']'.repeat(2000)))
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${api.adminToken}`, 'apollo-require-preflight': 'true' },
    })
    const text = await response.text()
    expect(response.status).toBe(400)
    expectRefusal({ contentType: response.headers.get('content-type'), text, body: JSON.parse(text) })
  })

  test('a JSON attribute nested 3,000 deep in the document itself is BAD_USER_INPUT before the parser recurses into it', async () => {
    const login = uniqueLogin('deep-literal')
    const deep = '{a: '.repeat(3000) + '1' + '}'.repeat(3000)
    const response = await post(
      JSON.stringify({
        query: `mutation { createUser(input: { profile: { login: "${login}", email: "${login}", custom: ${deep} } }) { user { id } } }`,
      }),
    )
    expect(response.status).toBe(400)
    expectRefusal(response)
    expect(response.body.errors[0].message).not.toMatch(/call stack/i)
    expect(await userExists(login)).toBe(false)
  })

  test('a WebSocket message over 1 MB, even before the connection is authenticated, closes the socket with 1009 and nothing else', async () => {
    const socket = new WebSocket(api.url.replace(/^http/, 'ws'), 'graphql-transport-ws')
    await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)))
    // Read whole, the message would be answered (connection_ack): the socket must close first.
    const closed = new Promise<number | string>((resolve) => {
      socket.once('close', resolve)
      socket.once('message', (message) => resolve(`answered: ${String(message)}`))
    })
    socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: 'x'.repeat(1024 * 1024) } }))
    expect(await closed).toBe(1009)
    expect((await api.gql('{ users(first: 1) { totalCount } }')).errors).toBeUndefined()
  })

  test('a subscription over the WebSocket is held to the same document limit', async () => {
    const padded = `subscription { userStatusChanged { status } }\n# ${'x'.repeat(100 * 1024)}`
    const refused = nextResults(api.wsClient(), padded).done
    await expect(refused).rejects.toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    ])
  })
})

describe('client mistakes are never INTERNAL', () => {
  test('a subscription sent over HTTP is BAD_USER_INPUT naming the WebSocket and SSE, with HTTP 400', async () => {
    const response = await post(JSON.stringify({ query: 'subscription { lifecycleEvents { type } }' }))
    expect(response.status).toBe(400)
    expectRefusal(response)
    expect(response.body.errors[0].message).toMatch(/WebSocket.*Server-Sent Events/)
  })

  test('a forged events cursor at or past 2^63 is BAD_USER_INPUT naming the argument', async () => {
    const forged = Buffer.from(`event:${2n ** 63n}`).toString('base64url')
    const huge = Buffer.from(`event:${'9'.repeat(40)}`).toString('base64url')
    for (const cursor of [forged, huge]) {
      const page = await api.gql('query($after: String) { events(after: $after) { totalCount } }', { after: cursor })
      expect(page.errors?.map((error) => error.extensions)).toEqual([{ code: 'BAD_USER_INPUT', field: ['after'] }])
      const resume = await api.gql('query($after: String) { events(filter: { after: $after }) { totalCount } }', {
        after: cursor,
      })
      expect(resume.errors?.map((error) => error.extensions)).toEqual([
        { code: 'BAD_USER_INPUT', field: ['filter', 'after'] },
      ])
    }
  })

  test('the largest sequence a cursor can carry names no event: BAD_USER_INPUT, not INTERNAL', async () => {
    const last = Buffer.from(`event:${2n ** 63n - 1n}`).toString('base64url')
    const page = await api.gql('query($after: String) { events(after: $after) { edges { cursor } } }', { after: last })
    expect(page.errors?.map((error) => error.extensions)).toEqual([{ code: 'BAD_USER_INPUT', field: ['after'] }])
  })

  test('70,000 event types in events(filter: { types }) are BAD_USER_INPUT', async () => {
    const types = Array.from({ length: 70_000 }, (_, i) => `t${i}`)
    const response = await post(
      JSON.stringify({
        query: 'query($types: [String!]) { events(filter: { types: $types }) { totalCount } }',
        variables: { types },
      }),
    )
    expect(response.status).toBe(400)
    expectRefusal(response)
  })
})
