import { ScimClient, type ScimResult } from '../../src/provisioning/scim-client'
import { startFaultProxy, type FaultProxy } from './fault-proxy'
import { startScimServer, type ScimServer } from './scim-server'

let scim: ScimServer
let proxy: FaultProxy
let client: ScimClient

beforeEach(async () => {
  scim = await startScimServer()
  proxy = await startFaultProxy(scim.baseUrl)
  client = new ScimClient({ baseUrl: proxy.baseUrl, token: scim.token })
})

afterEach(async () => {
  await proxy.close()
  await scim.close()
})

const alice = { userName: 'alice@example.com', name: { givenName: 'Alice', familyName: 'Liddell' }, active: true }
const aliceSearch = '/Users?filter=userName%20eq%20%22alice%40example.com%22'

function body<T>(result: ScimResult<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result)}`)
  return result.body
}

/** Waits for something that happens downstream after the client has its answer; gives up well inside the test timeout. */
async function eventually(what: string, condition: () => boolean): Promise<void> {
  const giveUp = Date.now() + 20_000
  while (!condition()) {
    if (Date.now() > giveUp) throw new Error(`still waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('fault proxy without faults', () => {
  it('keeps the target path prefix and passes requests and answers through', async () => {
    expect(new URL(proxy.baseUrl).pathname).toBe('/scim/v2')
    expect(proxy.baseUrl).not.toBe(scim.baseUrl)

    const { id } = body(await client.create(alice))
    expect(await client.findByUserName('alice@example.com')).toMatchObject({ ok: true, body: { id } })
    expect(await client.setActive(id, false)).toMatchObject({ ok: true, status: 200 })

    expect(scim.users()).toEqual([expect.objectContaining({ id, userName: 'alice@example.com', active: false })])
    expect(proxy.requests()).toEqual([
      { method: 'POST', path: '/Users', status: 201 },
      { method: 'GET', path: aliceSearch, status: 200 },
      { method: 'PATCH', path: `/Users/${id}`, status: 200 },
    ])
    expect(JSON.stringify(proxy.requests())).not.toContain(scim.token)
  })

  it('passes the downstream error answers through as they are', async () => {
    const wrong = new ScimClient({ baseUrl: proxy.baseUrl, token: 'not-the-token' })
    expect(await wrong.create(alice)).toMatchObject({ ok: false, kind: 'http', status: 401 })
    await client.create(alice)
    expect(await client.create(alice)).toMatchObject({ ok: false, kind: 'http', status: 409, scimType: 'uniqueness' })
  })
})

describe('status faults', () => {
  it('answers a 429 with its Retry-After without forwarding, once by default', async () => {
    proxy.inject({ kind: 'status', status: 429, retryAfter: '7', detail: 'slow down' })

    const limited = await client.create(alice)
    expect(limited).toMatchObject({ ok: false, kind: 'http', status: 429, retryAfter: '7', detail: 'slow down' })
    expect(scim.requestCount()).toBe(0)

    expect(await client.create(alice)).toMatchObject({ ok: true, status: 201 })
    expect(scim.users()).toHaveLength(1)
  })

  it('answers a 409 with its scimType and detail in a SCIM error body', async () => {
    proxy.inject({ kind: 'status', status: 409, scimType: 'uniqueness', detail: 'userName is already taken' })
    expect(await client.create(alice)).toMatchObject({
      ok: false,
      kind: 'http',
      status: 409,
      scimType: 'uniqueness',
      detail: 'userName is already taken',
    })
    expect(scim.users()).toHaveLength(0)
    expect(proxy.requests()).toEqual([{ method: 'POST', path: '/Users', status: 409 }])
  })
})

describe('slow answers', () => {
  // The first fetch in a fresh test VM loads undici, which can outlast a short timeout before the request
  // is even sent: warm it up on the server directly, so the proxy's log stays the test's own.
  beforeEach(() => new ScimClient({ baseUrl: scim.baseUrl, token: scim.token }).findByUserName('warm-up'))

  it('forwards a delayed request and returns its answer', async () => {
    proxy.inject({ kind: 'delay', ms: 50 })
    expect(await client.create(alice)).toMatchObject({ ok: true, status: 201 })
    expect(scim.users()).toHaveLength(1)
  })

  it('times the client out when the delay outlasts its timeout, and still forwards the request', async () => {
    proxy.inject({ kind: 'delay', ms: 1_500 })
    const impatient = new ScimClient({ baseUrl: proxy.baseUrl, token: scim.token, timeoutMs: 300 })

    expect(await impatient.create(alice)).toMatchObject({ ok: false, kind: 'timeout' })
    expect(proxy.requests()).toEqual([{ method: 'POST', path: '/Users' }])
    await eventually('the delayed create to reach the server', () => scim.users().length === 1)
    expect(scim.users()).toEqual([expect.objectContaining({ userName: 'alice@example.com' })])
  })

  it('never answers a hung request, and times the client out', async () => {
    proxy.inject({ kind: 'hang' })
    const impatient = new ScimClient({ baseUrl: proxy.baseUrl, token: scim.token, timeoutMs: 300 })
    expect(await impatient.create(alice)).toMatchObject({ ok: false, kind: 'timeout' })
    expect(proxy.requests()).toEqual([{ method: 'POST', path: '/Users' }])
    expect(scim.users()).toHaveLength(0)
  })

  it('ends a hung request when it closes, so nothing is left open', async () => {
    proxy.inject({ kind: 'hang' })
    const pending = client.create(alice)
    await eventually('the request to reach the proxy', () => proxy.requests().length === 1)
    await proxy.close()
    expect(await pending).toMatchObject({ ok: false, kind: 'network' })
  })
})

describe('dropped connections', () => {
  it('drops the connection before forwarding: the client sees a network failure and nothing happened', async () => {
    proxy.inject({ kind: 'drop' })
    expect(await client.create(alice)).toMatchObject({ ok: false, kind: 'network' })
    expect(scim.requestCount()).toBe(0)
    expect(proxy.requests()).toEqual([{ method: 'POST', path: '/Users' }])
  })

  it('drops the connection after forwarding: the account exists downstream though the client saw a failure', async () => {
    proxy.inject({ kind: 'after-forward-drop' })
    expect(await client.create(alice)).toMatchObject({ ok: false, kind: 'network' })
    expect(scim.users()).toEqual([expect.objectContaining({ userName: 'alice@example.com' })])
    expect(proxy.requests()).toEqual([{ method: 'POST', path: '/Users' }])

    // The retry that follows such a failure meets the account it already made.
    expect(await client.create(alice)).toMatchObject({ ok: false, status: 409, scimType: 'uniqueness' })
  })
})

describe('which requests a fault applies to', () => {
  it('applies a fault to as many matching requests as `times` says, then passes through', async () => {
    const { id } = body(await client.create(alice))
    proxy.inject({ kind: 'status', status: 500 }, { times: 2, path: '/Users/' })

    expect(await client.findByUserName('alice@example.com')).toMatchObject({ ok: true, body: { id } })
    expect(await client.create({ ...alice, userName: 'bob@example.com' })).toMatchObject({ ok: true, status: 201 })
    expect(await client.setActive(id, false)).toMatchObject({ ok: false, status: 500 })
    expect(await client.setActive(id, false)).toMatchObject({ ok: false, status: 500 })
    expect(await client.setActive(id, false)).toMatchObject({ ok: true, status: 200 })
    expect(scim.requestCount('PATCH')).toBe(1)
  })

  it('matches a path by RegExp, query included, for every request with Infinity until cleared', async () => {
    await client.create(alice)
    proxy.inject({ kind: 'status', status: 503 }, { times: Infinity, path: /^\/Users\?filter=/ })

    for (let i = 0; i < 3; i++) {
      expect(await client.findByUserName('alice@example.com')).toMatchObject({ ok: false, status: 503 })
    }
    expect(await client.list(1, 10)).toMatchObject({ ok: true, body: { totalResults: 1 } })

    proxy.clear()
    expect(await client.findByUserName('alice@example.com')).toMatchObject({ ok: true, status: 200 })
  })

  it('takes the first armed fault that matches, in the order injected', async () => {
    proxy.inject({ kind: 'status', status: 503 }, { method: 'GET' })
    proxy.inject({ kind: 'status', status: 500 })
    proxy.inject({ kind: 'status', status: 502 })

    expect(await client.create(alice)).toMatchObject({ status: 500 })
    expect(await client.findByUserName('alice@example.com')).toMatchObject({ status: 503 })
    expect(await client.findByUserName('alice@example.com')).toMatchObject({ status: 502 })
    expect(await client.create(alice)).toMatchObject({ ok: true, status: 201 })
  })

  it('refuses a fault that applies to no request', () => {
    expect(() => proxy.inject({ kind: 'drop' }, { times: 0 })).toThrow('at least one request')
  })
})
