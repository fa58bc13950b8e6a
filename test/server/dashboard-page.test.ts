// GET /dashboard: the bundled page, locked to this origin like GraphiQL's.
import { startTestServer, type TestServer } from '../support/harness'

let api: TestServer
let origin: string

beforeAll(async () => {
  api = await startTestServer()
  origin = new URL(api.url).origin
})
afterAll(() => api.close())

test('the page and every asset it names come from this origin, under a CSP that allows nothing else', async () => {
  const response = await fetch(`${origin}/dashboard`)
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toMatch(/^text\/html/)
  const csp = response.headers.get('content-security-policy')!
  expect(csp).toContain("default-src 'self'")
  expect(csp).toContain("script-src 'self';")
  expect(csp).toContain(`connect-src 'self' ws://${new URL(origin).host};`)
  expect(response.headers.get('x-frame-options')).toBe('DENY')

  const html = await response.text()
  const assets = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1])
  expect(assets).toEqual(expect.arrayContaining(['/dashboard/main.js', '/dashboard/main.css']))
  for (const asset of assets.filter((asset) => !asset.startsWith('data:'))) {
    const url = new URL(asset, origin)
    expect(url.origin).toBe(origin)
    expect({ asset, status: (await fetch(url)).status }).toEqual({ asset, status: 200 })
  }
})

test('an unknown asset is a 404, and the page needs no token to load', async () => {
  expect((await fetch(`${origin}/dashboard/nope.js`)).status).toBe(404)
  expect((await fetch(`${origin}/dashboard/`)).status).toBe(200)
})
