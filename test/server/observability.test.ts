import { nextResults, startTestServer, type TestServer } from '../support/harness'
import { createUser, lifecycle } from '../support/users'

let api: TestServer
const logLines: string[] = []
beforeAll(async () => {
  api = await startTestServer({}, { logLines })
})
afterAll(() => api.close())

const metricsUrl = () => api.url.replace(/graphql$/, 'metrics')
const scrape = async (token: string | null) =>
  fetch(metricsUrl(), { headers: token ? { authorization: `Bearer ${token}` } : {} })

/** The value of one sample line, e.g. `lifecycle_graphql_errors_total{code="VALIDATION"}`. */
function sample(text: string, name: string): number | undefined {
  const line = text.split('\n').find((entry) => entry.startsWith(name + ' '))
  return line === undefined ? undefined : Number(line.slice(name.length + 1))
}

describe('/metrics', () => {
  test('needs a token with metrics:read', async () => {
    expect((await scrape(null)).status).toBe(401)
    expect((await scrape(await api.tokenWith('users:read'))).status).toBe(403)
    const response = await scrape(await api.tokenWith('metrics:read'))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/plain')
  })

  test('counts operations by root field and outcome, errors by code, and reports pool and job queue', async () => {
    const token = await api.tokenWith('metrics:read')
    await api.gql(`query CountMe { users(first: 1) { totalCount } }`)
    await api.gql(`query CountMe { users(first: 1) { totalCount } }`)
    const invalid = await createUser(api, { activate: false })
    await lifecycle(api, 'suspendUser', invalid.user.id) // INVALID_TRANSITION userError
    const text = await (await scrape(token)).text()
    expect(sample(text, 'lifecycle_graphql_requests_total{operation="users",outcome="ok"}')).toBe(2)
    expect(sample(text, 'lifecycle_graphql_request_duration_seconds_count{operation="users"}')).toBe(2)
    expect(sample(text, 'lifecycle_graphql_errors_total{code="INVALID_TRANSITION"}')).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'lifecycle_database_connections{state="total"}')).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'lifecycle_provisioning_jobs{state="queued"}')).toBe(0)
  })

  test('operation names anyone sends add no series: 300 random names, with and without a token, share the labels of their root fields', async () => {
    const token = await api.tokenWith('metrics:read')
    const seriesOf = (text: string) =>
      text.split('\n').filter((line) => line.startsWith('lifecycle_graphql_requests_total{')).length
    const before = seriesOf(await (await scrape(token)).text())
    const randomName = () => `Random_${Math.random().toString(36).slice(2)}${'x'.repeat(1000)}`
    for (let i = 0; i < 100; i++) {
      await api.gql(`query ${randomName()} { viewer { tokenId } }`)
      await api.gql(`query ${randomName()} { viewer { tokenId } }`, {}, null) // anonymous: refused as UNAUTHENTICATED
      await api.gql(`query ${randomName()} { __schema { queryType { name } } }`, {}, null) // introspection needs no token
    }
    const text = await (await scrape(token)).text()
    expect(seriesOf(text) - before).toBeLessThanOrEqual(3) // viewer ok, viewer error, introspection ok
    expect(text).not.toContain('Random_')
    expect(sample(text, 'lifecycle_graphql_requests_total{operation="viewer",outcome="ok"}')).toBe(100)
    expect(sample(text, 'lifecycle_graphql_requests_total{operation="introspection",outcome="ok"}')).toBe(100)
  })

  test('reports open subscriptions', async () => {
    const token = await api.tokenWith('metrics:read')
    const watcher = nextResults(api.wsClient(), `subscription { userStatusChanged { status } }`)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(sample(await (await scrape(token)).text(), 'lifecycle_subscriptions_open')).toBe(1)
    watcher.unsubscribe()
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(sample(await (await scrape(token)).text(), 'lifecycle_subscriptions_open')).toBe(0)
  })

  test('METRICS_PORT serves /metrics on a separate port without a token', async () => {
    const separate = await startTestServer({ METRICS_PORT: '0' })
    try {
      expect(separate.server.metricsUrl).not.toBeNull()
      const response = await fetch(separate.server.metricsUrl!)
      expect(response.status).toBe(200)
      expect(await response.text()).toContain('lifecycle_graphql_requests_total')
    } finally {
      await separate.close()
    }
  })
})

describe('structured logs', () => {
  test('each operation logs one JSON line with request id, token id, operation, duration and outcome, never the token', async () => {
    const token = await api.tokenWith('users:read')
    const response = await fetch(api.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        'x-request-id': 'req-observable-1',
      },
      body: JSON.stringify({ query: 'query LoggedQuery { users(first: 1) { totalCount } }' }),
    })
    expect(response.headers.get('x-request-id')).toBe('req-observable-1')
    const viewer = await api.gql(`{ viewer { tokenId } }`, {}, token)
    const line = logLines.map((entry) => JSON.parse(entry)).find((entry) => entry.requestId === 'req-observable-1')
    expect(line).toMatchObject({
      operation: 'LoggedQuery',
      tokenId: viewer.data.viewer.tokenId,
      outcome: 'ok',
      durationMs: expect.any(Number),
      msg: 'graphql operation',
    })
    expect(logLines.join('\n')).not.toContain(token)
  })

  test('a failed operation logs its error codes', async () => {
    await api.gql(`query Broken { users(filter: { search: "nonsense eq" }) { totalCount } }`)
    const line = logLines
      .map((entry) => JSON.parse(entry))
      .reverse()
      .find((entry) => entry.operation === 'Broken')
    expect(line).toMatchObject({ outcome: 'error', errorCodes: ['BAD_USER_INPUT'] })
  })
})
