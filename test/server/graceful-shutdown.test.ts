import net from 'node:net'
import { createClient } from 'graphql-ws'
import WebSocket from 'ws'
import { runMain, serviceDatabase, startServer, type ServiceProcess } from '../support/service-process'

const ADMIN = 'graceful-admin-token'
const SERVICE_ENV = { BOOTSTRAP_ADMIN_TOKEN: ADMIN, SHUTDOWN_TIMEOUT_MS: '20000' }
let database: Awaited<ReturnType<typeof serviceDatabase>>
let service: ServiceProcess & { url: string }
let url: string
const output = () => service.output()
const exited = () => service.exited

/** Starts the real service (`main.ts start`, the npm start code path) as a child process on a fresh database. */
beforeAll(async () => {
  database = await serviceDatabase()
  service = await startServer({ ...database.env, ...SERVICE_ENV })
  url = service.url
}, 90_000)

afterAll(async () => {
  if (service.child.exitCode === null) service.child.kill('SIGKILL')
  await service.exited
  await database.drop()
})

test('SIGTERM during load finishes every in-flight request, closes subscriptions with a resumable reason, then exits', async () => {
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    const client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${ADMIN}` },
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
      on: { closed: (event) => resolve(event as { code: number; reason: string }) },
    })
    client.subscribe(
      { query: 'subscription { userStatusChanged { status } }' },
      { next: () => {}, error: () => {}, complete: () => {} },
    )
  })
  await new Promise((resolve) => setTimeout(resolve, 300))

  // Creating users with passwords is slow on purpose (memory-hard hashing): many are in flight at once.
  const requests = Array.from({ length: 32 }, (_, i) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({
        query:
          'mutation($input: CreateUserInput!) { createUser(input: $input) { user { id status } userErrors { code } } }',
        variables: {
          input: {
            profile: { login: `inflight${i}@example.com`, email: `inflight${i}@example.com` },
            credentials: { password: 'correct horse battery' },
          },
        },
      }),
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as any, at: Date.now() })),
  )
  // Signal once the first request has finished: by then every request has reached the server
  // (they are received in milliseconds; the hashing is what takes time), and most are still running.
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (output().includes('"graphql operation"')) {
        clearInterval(timer)
        resolve()
      }
    }, 5)
  })
  const signalled = Date.now()
  service.child.kill('SIGTERM')
  const responses = await Promise.all(requests)
  expect(responses.some((response) => response.at > signalled)).toBe(true) // some were still in flight

  for (const response of responses) {
    expect(response.status).toBe(200)
    expect(response.body.errors).toBeUndefined()
    expect(response.body.data.createUser).toMatchObject({ user: { status: 'ACTIVE' }, userErrors: [] })
  }
  expect(await closed).toMatchObject({ code: 1012, reason: expect.stringContaining('resume') })
  expect(await exited()).toBe(0)
  expect(output()).toContain('shut down')
  await expect(fetch(url.replace(/graphql$/, 'healthz'))).rejects.toThrow()
}, 90_000)

describe.each(['SIGTERM', 'SIGINT'] as const)('on a database a server has used and stopped before, %s', (signal) => {
  test(`stops an idle server: it logs "shut down" and exits with code 0`, async () => {
    const first = await startServer({ ...database.env, ...SERVICE_ENV })
    first.child.kill('SIGTERM')
    expect(await first.exited).toBe(0)

    const again = await startServer({ ...database.env, ...SERVICE_ENV })
    again.child.kill(signal)
    expect(await again.exited).toBe(0)
    expect(again.output()).toContain('"shut down"')
  }, 180_000)
})

test('a port already in use: the process says so in one line, without a stack, and exits with code 1', async () => {
  const other = await serviceDatabase()
  const taken = net.createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  try {
    const port = String((taken.address() as net.AddressInfo).port)
    const second = runMain(['start'], { ...other.env, ...SERVICE_ENV, HOST: '127.0.0.1', PORT: port })
    expect(await second.exited).toBe(1)
    expect(second.output()).toContain('EADDRINUSE')
    expect(second.output()).not.toMatch(/Unhandled 'error' event|\n\s+at /)
  } finally {
    taken.close()
    await other.drop()
  }
}, 90_000)
