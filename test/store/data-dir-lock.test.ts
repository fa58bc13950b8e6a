import { usingPostgres } from '../support/backend'
import { embeddedDataDir, graphql, runMain, startServer, type ServiceProcess } from '../support/service-process'

// About the embedded DATA_DIR itself: these run on the embedded database only (DATABASE_URL is
// how several processes share one database).
const describeEmbedded = usingPostgres ? describe.skip : describe

const ADMIN = 'data-dir-admin-token'
const running: ServiceProcess[] = []
let directory: ReturnType<typeof embeddedDataDir>
const env = () => ({ ...directory.env, BOOTSTRAP_ADMIN_TOKEN: ADMIN })
const track = <T extends ServiceProcess>(service: T) => (running.push(service), service)

beforeEach(() => {
  directory = embeddedDataDir()
})

afterEach(async () => {
  for (const service of running.splice(0)) {
    if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL')
    await service.exited
  }
  await directory.drop()
})

/** Whether the process went on to serve or exited first, and with which code. */
const outcome = (service: ServiceProcess) =>
  Promise.race([
    service.exited.then((code) => ({ exitCode: code })),
    service.waitFor(/serving/).then(() => ({ serving: true })),
  ])

const createUser = (url: string, login: string) =>
  graphql(
    url,
    ADMIN,
    'mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } userErrors { code } } }',
    {
      input: { profile: { login, email: login } },
    },
  )

describeEmbedded('one process per embedded data directory', () => {
  test('a second server on the same data directory refuses at once, naming the first, while the first keeps serving', async () => {
    const first = track(await startServer(env()))
    const second = track(runMain(['start'], env()))

    expect(await outcome(second)).toEqual({ exitCode: 1 })
    expect(second.output()).toContain(`in use by process ${first.child.pid} on `)
    expect(second.output()).toMatch(/started \d{4}-\d\d-\d\dT/)
    expect(second.output()).toContain('DATABASE_URL')
    expect(second.output()).not.toMatch(/^\s+at /m) // a message, not a stack trace

    const created = await createUser(first.url, 'still-serving@example.com')
    expect(created.status).toBe(200)
    expect(created.body.data.createUser.userErrors).toEqual([])
  }, 120_000)

  test('the token CLI refuses while the server runs and suggests its API; with the server stopped it issues a token the next start accepts', async () => {
    const server = track(await startServer(env()))
    const refused = track(runMain(['token', 'create', '--scopes', 'users:read', '--name', 'cli'], env()))
    expect(await refused.exited).toBe(1)
    expect(refused.output()).toContain(`in use by process ${server.child.pid} on `)
    expect(refused.output()).toContain('createApiToken')
    expect(refused.output()).not.toContain('token:')

    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    const issued = track(runMain(['token', 'create', '--scopes', 'users:read', '--name', 'cli'], env()))
    expect(await issued.exited).toBe(0)
    const [, secret] = /token:\s+(\S+)/.exec(issued.output())!

    const restarted = track(await startServer(env()))
    const viewer = await graphql(restarted.url, secret, '{ viewer { name scopes } }')
    expect(viewer.status).toBe(200)
    expect(viewer.body.data.viewer).toEqual({ name: 'cli', scopes: ['users:read'] })
  }, 180_000)

  test('after the server is killed (SIGKILL), a new start on the same directory serves the writes it had acknowledged', async () => {
    const killed = track(await startServer(env()))
    const logins = ['kept1@example.com', 'kept2@example.com', 'kept3@example.com']
    for (const login of logins)
      expect((await createUser(killed.url, login)).body.data.createUser.userErrors).toEqual([])
    killed.child.kill('SIGKILL')
    await killed.exited

    const next = track(await startServer(env()))
    const users = await graphql(next.url, ADMIN, '{ users(first: 10) { edges { node { profile { login } } } } }')
    expect(users.body.data.users.edges.map((edge: any) => edge.node.profile.login)).toEqual(logins)
  }, 180_000)
})
