import { createClient } from 'graphql-ws'
import WebSocket from 'ws'
import { usingPostgres } from '../support/backend'
import { activeUser, appUserWhen, assign, provisionedApp, remote } from '../support/provisioning'
import { startScimServer, type ScimServer } from '../support/scim-server'
import { runMain, serviceDatabase, startServer, startWorker, type ServiceProcess } from '../support/service-process'
import { watch } from '../support/subscriptions'

// Several server processes and a provisioning worker process on one PostgreSQL: the relay of each
// server delivers what any of them commits.
const onPostgres = usingPostgres ? describe : describe.skip
jest.setTimeout(180_000)

onPostgres('two server processes and a worker process on one database', () => {
  let database: Awaited<ReturnType<typeof serviceDatabase>>
  let scim: ScimServer
  const processes: ServiceProcess[] = []
  let a: ServiceProcess & { url: string }
  let b: ServiceProcess & { url: string }
  let token: string
  // A long token cache: a revocation must reach the other process through the relay, not by expiry.
  const env = () => ({ ...database.env, TOKEN_CACHE_SECONDS: '300', EVENT_RELAY_POLL_MS: '200' })
  // Servers only take requests: every provisioning job runs in the worker process.
  const serve = () => startServer({ ...env(), PROVISIONING_CONCURRENCY: '0' })

  const issue = async () => {
    const scopes = 'users:read,users:manage,apps:read,apps:manage,events:read'
    const cli = runMain(['token', 'create', '--scopes', scopes, '--name', 'p'], env())
    const [, id, secret] = await cli.waitFor(/id:\s+(\S+)[\s\S]*token:\s+(\S+)/)
    await cli.exited
    return { id, secret }
  }
  beforeAll(async () => {
    database = await serviceDatabase()
    scim = await startScimServer()
    ;({ secret: token } = await issue())
    a = await serve()
    b = await serve()
    processes.push(a, b, await startWorker({ ...env(), PROVISIONING_POLL_MS: '100' }))
  })
  afterAll(async () => {
    for (const process of processes) process.child.kill('SIGKILL')
    await Promise.all(processes.map((process) => process.exited))
    await scim.close()
    await database.drop()
  })

  const client = (url: string) =>
    createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
    })
  const gql = async (url: string, query: string, variables: Record<string, unknown> = {}) =>
    (await (
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      })
    ).json()) as any
  const createUser = async (url: string, login: string) =>
    (
      await gql(url, `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }`, {
        input: { profile: { login, email: login, firstName: 'P', lastName: 'Q' } },
      })
    ).data.createUser.user.id
  const EVENTS = `subscription($filter: LifecycleEventsFilter) { lifecycleEvents(filter: $filter) { sequence cursor } }`
  const APP_USER_CHANGES = `subscription($filter: AppUserStatusChangedFilter) { appUserStatusChanged(filter: $filter) {
    previousStatus status appUser { externalId user { id } } } }`

  // Runs first: the next test kills server B.
  test('an assignment on one server is provisioned by the worker process and its PROVISIONED change reaches an appUserStatusChanged subscriber on the other server', async () => {
    const onA = remote(a.url, token)
    const app = await provisionedApp(onA, scim)
    const subscriber = watch(client(b.url), APP_USER_CHANGES, { filter: { appIds: [app.id] } })
    // Probe users assigned until the subscription is live (each assignment is a STAGED change).
    await subscriber.untilDelivered(async () => assign(onA, app.id, (await activeUser(onA)).id))
    const user = await activeUser(onA)
    await assign(onA, app.id, user.id)
    // Bounded: without a worker running the job, this fails by its limit.
    await appUserWhen(onA, app.id, user.id, (row) => row.status === 'PROVISIONED')
    const provisioned = await subscriber.until(
      (result) =>
        result.data.appUserStatusChanged.appUser.user.id === user.id &&
        result.data.appUserStatusChanged.status === 'PROVISIONED',
    )
    subscriber.unsubscribe()

    const accounts = scim.users().filter((account) => account.userName === user.profile.login)
    expect(accounts).toHaveLength(1)
    expect(provisioned.data.appUserStatusChanged).toEqual({
      previousStatus: 'STAGED',
      status: 'PROVISIONED',
      appUser: { externalId: accounts[0].id, user: { id: user.id } },
    })
  })

  test('a mutation on one process reaches a subscriber on the other; after a kill, resuming elsewhere loses nothing', async () => {
    const subscriber = watch(client(b.url), EVENTS, { filter: { types: ['user.lifecycle.create'] } })
    await subscriber.untilDelivered(() => createUser(a.url, `probe.${Date.now()}@example.com`))
    const first = subscriber.results[0].data.lifecycleEvents
    b.child.kill('SIGKILL')
    await b.exited
    for (let index = 0; index < 5; index++) await createUser(a.url, `after.${index}.${Date.now()}@example.com`)
    const resumed = watch(client(a.url), EVENTS, { filter: { types: ['user.lifecycle.create'], after: first.cursor } })
    const last = await gql(
      a.url,
      `{ events(last: 1, filter: { types: ["user.lifecycle.create"] }) { edges { cursor node { sequence } } } }`,
    )
    await resumed.until((result) => result.data.lifecycleEvents.cursor === last.data.events.edges[0].cursor)
    resumed.unsubscribe()
    const all = await gql(
      a.url,
      `query($after: String) { events(first: 200, filter: { types: ["user.lifecycle.create"], after: $after }) { edges { node { sequence } } } }`,
      { after: first.cursor },
    )
    expect(resumed.results.map((result) => result.data.lifecycleEvents.sequence)).toEqual(
      all.data.events.edges.map((edge: any) => edge.node.sequence),
    )
    expect(resumed.results).toHaveLength(5)
  })

  test('a token revoked by another process ends its subscription on this one at once, with UNAUTHENTICATED', async () => {
    const c = await serve()
    processes.push(c)
    const revoked = await issue()
    const subscriber = watch(
      createClient({
        url: c.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${revoked.secret}` },
        retryAttempts: 0,
      }),
      EVENTS,
      { filter: { types: ['user.lifecycle.create'] } },
    )
    await subscriber.untilDelivered(() => createUser(a.url, `probe.${Date.now()}@example.com`))
    // Another process (the command line) revokes it.
    const cli = runMain(['token', 'revoke', revoked.id], env())
    await cli.waitFor(/revoked /)
    await cli.exited
    // No further event is committed: only the relay can tell process C.
    const ended = await subscriber.until((result) => Boolean(result.errors))
    expect(ended.errors[0].extensions.code).toBe('UNAUTHENTICATED')
  })
})
