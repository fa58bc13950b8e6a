import { usingPostgres } from '../support/backend'
import { activeUser, appUserWhen, assign, provisionedApp, remote } from '../support/provisioning'
import { startFaultProxy, type Fault, type FaultProxy } from '../support/fault-proxy'
import { startScimServer, type ScimServer } from '../support/scim-server'
import { serviceDatabase, startServer, startWorker, type ServiceProcess } from '../support/service-process'

// Workers as `npm start` and `npm run worker` run them: separate processes sharing one queue.

const ADMIN = 'process-admin-token-0123456789abcdef'
const onPostgres = usingPostgres ? test : test.skip

let scim: ScimServer
let database: Awaited<ReturnType<typeof serviceDatabase>>
const processes: ServiceProcess[] = []

beforeEach(async () => {
  scim = await startScimServer()
  database = await serviceDatabase()
})
afterEach(async () => {
  for (const process of processes.splice(0)) {
    process.child.kill('SIGKILL')
    await process.exited
  }
  await scim.close()
  await database.drop()
})

async function worker() {
  const started = await startWorker({ ...database.env, PROVISIONING_POLL_MS: '100' })
  processes.push(started)
  return started
}

onPostgres(
  'two worker processes on one PostgreSQL run every job exactly once',
  async () => {
    // The server only takes requests: every job runs in one of the two workers.
    const server = await startServer({ ...database.env, BOOTSTRAP_ADMIN_TOKEN: ADMIN, PROVISIONING_CONCURRENCY: '0' })
    processes.push(server)
    await Promise.all([worker(), worker()])
    const api = remote(server.url, ADMIN)
    const app = await provisionedApp(api, scim)
    const users = []
    for (let i = 0; i < 40; i++) users.push(await activeUser(api))
    await Promise.all(users.map((user) => assign(api, app.id, user.id)))
    for (const user of users) await appUserWhen(api, app.id, user.id, (row) => row.status === 'PROVISIONED')

    expect(scim.users()).toHaveLength(users.length)
    expect(scim.requestCount('POST', '/scim/v2/Users')).toBe(users.length)
    // One lookup per create: a job run twice would look up twice.
    expect(scim.requestCount('GET', '/scim/v2/Users')).toBe(users.length)
  },
  120_000,
)

/**
 * A server process whose worker is in the middle of one user's create, held at `proxy` by `fault`;
 * `interrupt` then stops that process. A second server on the same database must end the job: the
 * app user PROVISIONED, linked to the one account the downstream holds for that user.
 */
async function interruptedCreate(
  env: Record<string, string>,
  fault: Fault,
  interrupt: (server: ServiceProcess, proxy: FaultProxy) => Promise<void>,
) {
  const proxy = await startFaultProxy(scim.baseUrl)
  try {
    const first = await startServer(env)
    processes.push(first)
    const api = remote(first.url, ADMIN)
    const app = await provisionedApp(api, { baseUrl: proxy.baseUrl, token: scim.token })
    const user = await activeUser(api)
    proxy.inject(fault, { method: 'POST', path: '/Users' })
    await assign(api, app.id, user.id)
    while (!proxy.requests().some((request) => request.method === 'POST')) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    await interrupt(first, proxy)

    const second = await startServer(env)
    processes.push(second)
    const after = remote(second.url, ADMIN)
    const provisioned = await appUserWhen(after, app.id, user.id, (row) => row.status === 'PROVISIONED')
    const accounts = scim.users().filter((account) => account.userName === user.profile.login)
    expect(accounts).toHaveLength(1)
    expect(provisioned.externalId).toBe(accounts[0].id)
  } finally {
    await proxy.close()
  }
}

test('a worker SIGKILLed mid-request: the job is taken over after its lease and the downstream holds exactly one account', async () => {
  const env = {
    ...database.env,
    BOOTSTRAP_ADMIN_TOKEN: ADMIN,
    PROVISIONING_LEASE_SECONDS: '2',
    PROVISIONING_POLL_MS: '100',
  }
  // The create reaches the downstream only after the worker is dead: the work happens, nobody hears of it.
  await interruptedCreate(env, { kind: 'delay', ms: 1_500 }, async (server) => {
    server.child.kill('SIGKILL')
    await server.exited
    while (scim.users().length === 0) await new Promise((resolve) => setTimeout(resolve, 20))
  })
}, 120_000)

test('SIGTERM: a worker stops claiming, hands its unfinished job back at once, and exits; the next one sends it', async () => {
  // A lease far beyond this test's patience: only the hand-back lets the next process run the job.
  const env = {
    ...database.env,
    BOOTSTRAP_ADMIN_TOKEN: ADMIN,
    PROVISIONING_LEASE_SECONDS: '600',
    PROVISIONING_POLL_MS: '100',
    SHUTDOWN_TIMEOUT_MS: '2000',
  }
  await interruptedCreate(env, { kind: 'hang' }, async (server, proxy) => {
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(server.output()).toMatch(/released unfinished jobs/)
    proxy.clear()
  })
}, 120_000)
