import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createClient } from 'graphql-ws'
import WebSocket from 'ws'
import { adminQuery, templateLocation, uniqueDatabaseName, urlForDatabase, usingPostgres } from '../support/backend'

const ADMIN = 'graceful-admin-token'
let child: ChildProcess
let url: string
let cleanup: () => Promise<void>
let output = ''

/** Starts the real service (`main.ts start`, the npm start code path) as a child process on a fresh database. */
beforeAll(async () => {
  let database: Record<string, string>
  if (usingPostgres) {
    const name = uniqueDatabaseName('lg_shutdown')
    await adminQuery(`CREATE DATABASE "${name}" TEMPLATE "${templateLocation()}"`)
    database = { DATABASE_URL: urlForDatabase(name) }
    cleanup = () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-shutdown-'))
    database = { DATA_DIR: dir, DATABASE_URL: '' }
    cleanup = async () => fs.rmSync(dir, { recursive: true, force: true })
  }
  child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../src/main.ts'), 'start'], {
    env: { ...process.env, ...database, PORT: '0', BOOTSTRAP_ADMIN_TOKEN: ADMIN, RATE_LIMIT_PER_MINUTE: '0', SHUTDOWN_TIMEOUT_MS: '20000', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /serving (http:\/\/\S+)/.exec(output)
      if (match) {
        clearInterval(timer)
        resolve(match[1])
      }
      if (child.exitCode !== null) reject(new Error(output))
    }, 50)
  })
}, 90_000)

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL')
  await cleanup()
})

const exited = () => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))))

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
    client.subscribe({ query: 'subscription { userStatusChanged { status } }' }, { next: () => {}, error: () => {}, complete: () => {} })
  })
  await new Promise((resolve) => setTimeout(resolve, 300))

  // Creating users with passwords is slow on purpose (memory-hard hashing): many are in flight at once.
  const requests = Array.from({ length: 32 }, (_, i) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({
        query: 'mutation($input: CreateUserInput!) { createUser(input: $input) { user { id status } userErrors { code } } }',
        variables: { input: { profile: { login: `inflight${i}@example.com`, email: `inflight${i}@example.com` }, credentials: { password: 'correct horse battery' } } },
      }),
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as any, at: Date.now() })),
  )
  // Signal once the first request has finished: by then every request has reached the server
  // (they are received in milliseconds; the hashing is what takes time), and most are still running.
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (output.includes('"graphql operation"')) {
        clearInterval(timer)
        resolve()
      }
    }, 5)
  })
  const signalled = Date.now()
  child.kill('SIGTERM')
  const responses = await Promise.all(requests)
  expect(responses.some((response) => response.at > signalled)).toBe(true) // some were still in flight

  for (const response of responses) {
    expect(response.status).toBe(200)
    expect(response.body.errors).toBeUndefined()
    expect(response.body.data.createUser).toMatchObject({ user: { status: 'ACTIVE' }, userErrors: [] })
  }
  expect(await closed).toMatchObject({ code: 1012, reason: expect.stringContaining('resume') })
  expect(await exited()).toBe(0)
  expect(output).toContain('shut down')
  await expect(fetch(url.replace(/graphql$/, 'healthz'))).rejects.toThrow()
}, 90_000)
