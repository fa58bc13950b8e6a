import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ScimClient, type ScimResult } from '../../src/provisioning/scim-client'
import { downstreamPages } from '../../src/provisioning/scim-pages'
import { startScimServer, type ScimServer } from '../support/scim-server'

let scim: ScimServer
let client: ScimClient

beforeEach(async () => {
  scim = await startScimServer()
  client = new ScimClient({ baseUrl: scim.baseUrl, token: scim.token })
})

afterEach(() => scim.close())

const alice = {
  userName: 'alice@example.com',
  name: { givenName: 'Alice', familyName: 'Liddell' },
  active: true,
}

function body<T>(result: ScimResult<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result)}`)
  return result.body
}

/** A raw HTTP peer on loopback for answers a real SCIM server does not give: it runs `respond` on each request. */
async function rawServer(respond: (req: IncomingMessage, res: ServerResponse) => void) {
  const server: Server = createServer(respond)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/scim/v2`
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return { baseUrl, close }
}

describe('SCIM client against a real SCIM 2.0 server', () => {
  it('creates an account with a server-assigned id and finds it by userName in any case', async () => {
    const created = await client.create(alice)
    expect(created).toMatchObject({ ok: true, status: 201, body: { userName: 'alice@example.com', active: true } })
    const id = body(created).id

    const found = await client.findByUserName('ALICE@example.com')
    expect(found).toMatchObject({ ok: true, status: 200, body: { id, userName: 'alice@example.com' } })
    expect(scim.requestCount('GET', '/scim/v2/Users')).toBe(1)
  })

  it('finds nothing for a userName the server does not hold', async () => {
    await client.create(alice)
    expect(await client.findByUserName('bob@example.com')).toMatchObject({ ok: true, body: null })
  })

  it('finds an account through a server that filters userName exactly only in the same case', async () => {
    const exact = await startScimServer({ userNameFilter: 'case-sensitive' })
    try {
      const exactClient = new ScimClient({ baseUrl: exact.baseUrl, token: exact.token })
      await exactClient.create(alice)
      expect(await exactClient.findByUserName('ALICE@example.com')).toMatchObject({ ok: true, body: null })
      expect(await exactClient.findByUserName('alice@example.com')).toMatchObject({
        ok: true,
        body: { userName: 'alice@example.com' },
      })
    } finally {
      await exact.close()
    }
  })

  it('reads a 404 answer to the search as no account', async () => {
    const peer = await rawServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/scim+json' })
      res.end(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404' }))
    })
    try {
      const result = await new ScimClient({ baseUrl: peer.baseUrl, token: 't' }).findByUserName('alice@example.com')
      expect(result).toMatchObject({ ok: true, status: 404, body: null })
    } finally {
      await peer.close()
    }
  })

  it('answers a second account with the same userName with a 409 uniqueness failure', async () => {
    await client.create(alice)
    const duplicate = await client.create({ ...alice, userName: 'Alice@Example.com' })
    expect(duplicate).toMatchObject({ ok: false, kind: 'http', status: 409, scimType: 'uniqueness' })
    expect(scim.users()).toHaveLength(1)
  })

  it('replaces the whole profile and keeps the account active', async () => {
    const { id } = body(await client.create(alice))
    const replaced = await client.replace(id, { ...alice, displayName: 'Alice L.', title: 'Engineer' })
    expect(replaced).toMatchObject({ ok: true, status: 200, body: { id, displayName: 'Alice L.', active: true } })
    expect(scim.users()).toEqual([expect.objectContaining({ id, title: 'Engineer', active: true })])
  })

  it('deactivates the account with a PATCH and reactivates the same account', async () => {
    const { id } = body(await client.create(alice))

    expect(await client.setActive(id, false)).toMatchObject({ ok: true, status: 200 })
    expect(scim.users()).toEqual([expect.objectContaining({ id, active: false })])

    expect(await client.setActive(id, true)).toMatchObject({ ok: true })
    expect(scim.users()).toEqual([expect.objectContaining({ id, active: true })])
    expect(scim.requestCount('PATCH', `/scim/v2/Users/${id}`)).toBe(2)
    expect(scim.requestCount('DELETE')).toBe(0)
  })

  it('lists accounts page by page', async () => {
    for (const name of ['a', 'b', 'c']) await client.create({ ...alice, userName: `${name}@example.com` })
    const page = body(await client.list(2, 2))
    expect(page).toMatchObject({ totalResults: 3, startIndex: 2 })
    expect(page.Resources.map((user) => user.userName)).toEqual(['b@example.com', 'c@example.com'])
  })

  it('reads every downstream account a page at a time until totalResults', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) await client.create({ ...alice, userName: `${name}@example.com` })
    const pages: string[][] = []
    for await (const page of downstreamPages(client, 2)) {
      if (!page.ok) throw new Error(`expected a page, got ${JSON.stringify(page)}`)
      pages.push(page.users.map((user) => user.userName[0]))
    }
    expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e']])
    expect(scim.requestCount('GET')).toBe(3)
  })

  it('ends the pages with the failure when a page cannot be read', async () => {
    const wrong = new ScimClient({ baseUrl: scim.baseUrl, token: 'not-the-token' })
    const pages = []
    for await (const page of downstreamPages(wrong)) pages.push(page)
    expect(pages).toEqual([expect.objectContaining({ ok: false, status: 401 })])
  })

  it('describes each request for the attempt log without the token', async () => {
    const { id } = body(await client.create(alice))
    const result = await client.setActive(id, false)
    expect(result.request).toEqual({
      method: 'PATCH',
      path: `/Users/${id}`,
      status: 200,
      durationMs: expect.any(Number),
    })
    expect(JSON.stringify(result.request)).not.toContain(scim.token)
  })

  it('reports a wrong token as a 401 failure that does not quote the token', async () => {
    const wrong = new ScimClient({ baseUrl: scim.baseUrl, token: 'not-the-token' })
    const result = await wrong.findByUserName('alice@example.com')
    expect(result).toMatchObject({ ok: false, kind: 'http', status: 401, detail: 'Invalid bearer token' })
    expect(scim.users()).toHaveLength(0)
  })
})

describe('SCIM client failures', () => {
  it('reports a closed port as a network failure', async () => {
    const gone = await rawServer((_req, res) => res.end())
    await gone.close()
    const result = await new ScimClient({ baseUrl: gone.baseUrl, token: 't' }).findByUserName('alice@example.com')
    expect(result).toMatchObject({ ok: false, kind: 'network', detail: 'connection failed (ECONNREFUSED)' })
    expect(result.request).toMatchObject({
      method: 'GET',
      path: '/Users?filter=userName%20eq%20%22alice%40example.com%22',
    })
  })

  it('reports a server that never answers as a timeout failure', async () => {
    const silent = await rawServer(() => {})
    try {
      const result = await new ScimClient({ baseUrl: silent.baseUrl, token: 't', timeoutMs: 200 }).create(alice)
      expect(result).toMatchObject({ ok: false, kind: 'timeout' })
      expect(result.request).not.toHaveProperty('status')
    } finally {
      await silent.close()
    }
  })

  it.each([
    ['a string status', '400', 400],
    ['a numeric status', 400, 400],
  ])('parses a SCIM error body with %s', async (_label, status, httpStatus) => {
    const peer = await rawServer((_req, res) => {
      res.writeHead(httpStatus, { 'content-type': 'application/scim+json' })
      res.end(
        JSON.stringify({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
          status,
          scimType: 'invalidValue',
          detail: 'name.familyName is required',
        }),
      )
    })
    try {
      const result = await new ScimClient({ baseUrl: peer.baseUrl, token: 't' }).create(alice)
      expect(result).toMatchObject({
        ok: false,
        kind: 'http',
        status: 400,
        scimType: 'invalidValue',
        detail: 'name.familyName is required',
      })
    } finally {
      await peer.close()
    }
  })

  it('keeps the raw Retry-After of a 429 and redacts a token the peer echoes back', async () => {
    const token = 'secret-token-123'
    const peer = await rawServer((req, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' })
      res.end(JSON.stringify({ status: 429, detail: `slow down, ${req.headers.authorization}` }))
    })
    try {
      const result = await new ScimClient({ baseUrl: peer.baseUrl, token }).setActive('u1', false)
      expect(result).toMatchObject({ ok: false, kind: 'http', status: 429, retryAfter: '7' })
      expect(JSON.stringify(result)).not.toContain(token)
      expect(result).toMatchObject({ detail: 'slow down, Bearer [redacted]' })
    } finally {
      await peer.close()
    }
  })

  it('reports a create answered without a user id as a protocol failure', async () => {
    const peer = await rawServer((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/scim+json' })
      res.end()
    })
    try {
      const result = await new ScimClient({ baseUrl: peer.baseUrl, token: 't' }).create(alice)
      expect(result).toMatchObject({ ok: false, kind: 'protocol', status: 201 })
    } finally {
      await peer.close()
    }
  })

  it('refuses an answer larger than 1 MiB unread, whatever the downstream sends', async () => {
    let stillSending = true
    const flood = await rawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/scim+json' })
      const chunk = Buffer.alloc(64 * 1024, 'x')
      const pump = () => {
        // 64 MiB in all unless the client hangs up first.
        for (let sent = 0; sent < 1024 && stillSending; sent++)
          if (!res.write(chunk)) return void res.once('drain', pump)
        res.end()
      }
      res.on('close', () => (stillSending = false))
      pump()
    })
    try {
      const result = await new ScimClient({ baseUrl: flood.baseUrl, token: 't' }).findByUserName('alice@example.com')
      expect(result).toMatchObject({ ok: false, kind: 'protocol', status: 200 })
      expect(result.ok ? '' : result.detail).toMatch(/exceeded 1048576 bytes/)
    } finally {
      await flood.close()
    }
  })
})
