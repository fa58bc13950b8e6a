import { createClient } from 'graphql-ws'
import WebSocket from 'ws'
import { usingPostgres } from '../support/backend'
import { runMain, serviceDatabase, startServer, type ServiceProcess } from '../support/service-process'
import { watch } from '../support/subscriptions'

// Several server processes on one PostgreSQL: the relay of each delivers what any of them commits.
const onPostgres = usingPostgres ? describe : describe.skip
jest.setTimeout(180_000)

onPostgres('two server processes on one database', () => {
  let database: Awaited<ReturnType<typeof serviceDatabase>>
  const processes: ServiceProcess[] = []
  let a: ServiceProcess & { url: string }
  let b: ServiceProcess & { url: string }
  let token: string
  // A long token cache: a revocation must reach the other process through the relay, not by expiry.
  const env = () => ({ ...database.env, TOKEN_CACHE_SECONDS: '300', EVENT_RELAY_POLL_MS: '200' })

  const issue = async () => {
    const cli = runMain(['token', 'create', '--scopes', 'users:read,users:manage,events:read', '--name', 'p'], env())
    const [, id, secret] = await cli.waitFor(/id:\s+(\S+)[\s\S]*token:\s+(\S+)/)
    await cli.exited
    return { id, secret }
  }
  beforeAll(async () => {
    database = await serviceDatabase()
    ;({ secret: token } = await issue())
    a = await startServer(env())
    b = await startServer(env())
    processes.push(a, b)
  })
  afterAll(async () => {
    for (const process of processes) process.child.kill('SIGKILL')
    await Promise.all(processes.map((process) => process.exited))
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
    const c = await startServer(env())
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
