import { ScimClient } from '../../src/provisioning/scim-client'
import { jobsOf } from '../support/directory'
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy'
import { startTestServer, type TestServer } from '../support/harness'
import {
  activeUser,
  appUser,
  appUserWhen,
  assign,
  pause,
  provisionedApp,
  resume,
  unassign,
} from '../support/provisioning'
import { startScimServer, type ScimServer } from '../support/scim-server'

// The provisioning engine's failure contract (api.md "Provisioning operations", issue 12) end to end:
// assignments through the API, the worker in the server's process, a fault-injecting proxy in front of
// a real SCIM 2.0 server (scimmy). Retries back off by 0 ms (`random: () => 0`), a job gives up after
// 3 attempts, and a request times out after 2 s.

const TIMEOUT_MS = 2_000
const MAX_ATTEMPTS = 3

let api: TestServer
let scim: ScimServer
let proxy: FaultProxy

beforeAll(async () => {
  api = await startTestServer(
    {},
    { provisioning: { pollMs: 50, random: () => 0, maxAttempts: MAX_ATTEMPTS, timeoutMs: TIMEOUT_MS } },
  )
  scim = await startScimServer()
  // The first fetch in a test VM loads undici, which could outlast a short timeout: warm it up directly.
  await new ScimClient({ baseUrl: scim.baseUrl, token: scim.token }).findByUserName('warm-up')
})
afterAll(async () => {
  await api.close()
  await scim.close()
})
beforeEach(async () => {
  proxy = await startFaultProxy(scim.baseUrl)
})
afterEach(() => proxy.close())

/** An app whose SCIM connection goes through `through` (the test's proxy unless another is given). */
const app = (through: FaultProxy = proxy) => provisionedApp(api, { baseUrl: through.baseUrl, token: scim.token })

const accountsOf = (login: string) =>
  scim.users().filter((account) => account.userName.toLowerCase() === login.toLowerCase())

const sent = (method?: string, through: FaultProxy = proxy) =>
  through.requests().filter((request) => !method || request.method === method)

const ATTEMPT_FIELDS = 'operation method path httpStatus outcome detail at'

/** AppUser.attempts as the API lists them: newest first. */
async function attemptsOf(appId: string, userId: string) {
  const row = await appUser(api, appId, userId, `attempts(first: 100) { edges { node { ${ATTEMPT_FIELDS} } } }`)
  return row.attempts.edges.map((edge: any) => edge.node)
}

/** The attempts reduced to what a person reads first: operation, method, HTTP status and outcome. */
const summary = (attempts: any[]) =>
  attempts.map(({ operation, method, httpStatus, outcome }) => `${operation} ${method} ${httpStatus} ${outcome}`)

async function eventsOf(targetId: string, type: string) {
  const response = await api.gql(
    `query($filter: EventFilter) { events(filter: $filter, first: 50) { edges { node { type data } } } }`,
    { filter: { targetId, types: [type] } },
  )
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  return response.data.events.edges.map((edge: any) => edge.node)
}

async function rateLimitedUntil(appId: string): Promise<string | null> {
  const response = await api.gql(`query($id: ID!) { app(id: $id) { provisioning { rateLimitedUntil } } }`, {
    id: appId,
  })
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  return response.data.app.provisioning.rateLimitedUntil
}

/** Waits for something the engine does in the background; the limit only bounds a broken run. */
async function eventually<T>(what: string, read: () => T | Promise<T>, limitMs = 20_000): Promise<NonNullable<T>> {
  const giveUp = Date.now() + limitMs
  for (;;) {
    const value = await read()
    if (value) return value as NonNullable<T>
    if (Date.now() > giveUp) throw new Error(`still waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function operate(mutation: string, input: Record<string, unknown>) {
  const name = `${mutation[0].toUpperCase()}${mutation.slice(1)}Input`
  const response = await api.gql(
    `mutation($input: ${name}!) { ${mutation}(input: $input) { appUser { status syncState provisioningError { summary } } userErrors { code } } }`,
    { input },
  )
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  expect(response.data[mutation].userErrors).toEqual([])
  return response.data[mutation].appUser
}

const provisioned = (appId: string, userId: string) =>
  appUserWhen(api, appId, userId, (row) => row.status === 'PROVISIONED')
const failed = (appId: string, userId: string) => appUserWhen(api, appId, userId, (row) => row.syncState === 'ERROR')

describe('5xx answers', () => {
  test('a 500 is retried with backoff and the app user ends PROVISIONED; the attempts show the retry, newest first', async () => {
    const { id: appId } = await app()
    const user = await activeUser(api)
    proxy.inject({ kind: 'status', status: 500, detail: 'database unavailable' }, { method: 'POST' })
    await assign(api, appId, user.id)

    const row = await provisioned(appId, user.id)
    expect(row).toMatchObject({ syncState: 'SYNCHRONIZED', provisioningError: null })
    expect(accountsOf(user.profile.login)).toEqual([expect.objectContaining({ id: row.externalId, active: true })])
    const attempts = await attemptsOf(appId, user.id)
    expect(summary(attempts)).toEqual([
      'CREATE POST 201 SUCCEEDED',
      'LINK GET 200 SUCCEEDED',
      'CREATE POST 500 RETRY_SCHEDULED',
      'LINK GET 200 SUCCEEDED',
    ])
    expect(attempts[2].detail).toBe('database unavailable')
  })

  test(`a 5xx on every attempt ends in ERROR after exactly ${MAX_ATTEMPTS} attempts, the status kept, the event recorded`, async () => {
    const { id: appId } = await app()
    const user = await activeUser(api)
    proxy.inject({ kind: 'status', status: 500 }, { times: Infinity })
    const { id: appUserId } = await assign(api, appId, user.id)

    const row = await failed(appId, user.id)
    expect(row).toMatchObject({ status: 'STAGED', externalId: null })
    expect(row.provisioningError).toEqual({
      summary: expect.stringContaining(`gave up after ${MAX_ATTEMPTS} attempts`),
      causes: [expect.stringContaining('HTTP 500')],
      occurredAt: expect.any(String),
      attempts: MAX_ATTEMPTS,
    })
    expect(sent()).toHaveLength(MAX_ATTEMPTS)
    expect(summary(await attemptsOf(appId, user.id))).toEqual([
      'LINK GET 500 FAILED',
      'LINK GET 500 RETRY_SCHEDULED',
      'LINK GET 500 RETRY_SCHEDULED',
    ])
    const events = await eventsOf(appUserId, 'application.integration.general_failure')
    expect(events).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ httpStatus: 500, attempts: MAX_ATTEMPTS }) }),
    ])
    expect(accountsOf(user.profile.login)).toEqual([])
  })
})

describe('4xx answers', () => {
  test("another 4xx is not retried: ERROR at once with the downstream's detail", async () => {
    const { id: appId } = await app()
    const user = await activeUser(api)
    const detail = 'Attribute "title" exceeds 64 characters'
    proxy.inject({ kind: 'status', status: 400, scimType: 'invalidValue', detail }, { method: 'POST' })
    const { id: appUserId } = await assign(api, appId, user.id)

    const row = await failed(appId, user.id)
    expect(row).toMatchObject({ status: 'STAGED', externalId: null })
    expect(row.provisioningError).toMatchObject({
      summary: expect.stringContaining(detail),
      causes: [detail],
      attempts: 1,
    })
    expect(sent('POST')).toHaveLength(1)
    expect(summary(await attemptsOf(appId, user.id))).toEqual(['CREATE POST 400 FAILED', 'LINK GET 200 SUCCEEDED'])
    const events = await eventsOf(appUserId, 'application.integration.general_failure')
    expect(events).toEqual([expect.objectContaining({ data: expect.objectContaining({ httpStatus: 400 }) })])
  })

  test.each([401, 403])(
    'a %d is an authentication failure: ERROR, the event with the status, no retry',
    async (status) => {
      const { id: appId } = await app()
      const user = await activeUser(api)
      proxy.inject({ kind: 'status', status, detail: 'token rejected' })
      const { id: appUserId } = await assign(api, appId, user.id)

      const row = await failed(appId, user.id)
      expect(row.provisioningError).toMatchObject({
        causes: [expect.stringContaining('credentials used to connect to the API were invalid: token rejected')],
        attempts: 1,
      })
      expect(sent()).toHaveLength(1)
      const events = await eventsOf(appUserId, 'application.integration.authentication_failure')
      expect(events).toEqual([expect.objectContaining({ data: expect.objectContaining({ httpStatus: status }) })])
    },
  )
})

describe('429 rate limits', () => {
  /** When each request through the proxies was first seen: never earlier than it arrived. */
  function arrivals(...proxies: FaultProxy[]) {
    const seen = proxies.map(() => [] as number[])
    const timer = setInterval(() => {
      proxies.forEach((through, i) => {
        while (seen[i].length < through.requests().length) seen[i].push(Date.now())
      })
    }, 2)
    return { seen, stop: () => clearInterval(timer) }
  }

  test("a 429 pauses the app's whole queue until Retry-After while other apps proceed; then both provision", async () => {
    const other = await startFaultProxy(scim.baseUrl)
    try {
      const limited = await app()
      const healthy = await app(other)
      const [first, second, elsewhere] = [await activeUser(api), await activeUser(api), await activeUser(api)]
      const clock = arrivals(proxy, other)
      // 5 s rather than 1: the other app's whole provisioning must fit inside the hold on a busy CI machine.
      proxy.inject({ kind: 'status', status: 429, retryAfter: '5', detail: 'too many requests' })
      const { id: firstAppUserId } = await assign(api, limited.id, first.id)
      const until = Date.parse(await eventually('the app to be held', () => rateLimitedUntil(limited.id)))

      await assign(api, limited.id, second.id)
      await assign(api, healthy.id, elsewhere.id)
      await provisioned(healthy.id, elsewhere.id)
      await provisioned(limited.id, first.id)
      await provisioned(limited.id, second.id)
      clock.stop()

      // Nothing of the held app, not even the second app user's lookup, reached it before the hold ended...
      const [limitedSeen, healthySeen] = clock.seen
      expect(limitedSeen.length).toBeGreaterThan(1)
      for (const at of limitedSeen.slice(1)) expect(at).toBeGreaterThanOrEqual(until)
      // ...while the other app was provisioned meanwhile.
      expect(Math.max(...healthySeen)).toBeLessThan(limitedSeen[1])
      expect(
        sent('GET').filter((request) => request.path.includes(encodeURIComponent(second.profile.login))),
      ).toHaveLength(1)

      const events = await eventsOf(firstAppUserId, 'application.integration.rate_limit_exceeded')
      expect(events).toEqual([
        expect.objectContaining({
          data: expect.objectContaining({ httpStatus: 429, pausedUntil: new Date(until).toISOString() }),
        }),
      ])
    } finally {
      await other.close()
    }
  })

  test('a 429 holds the jobs a worker has already claimed for the app too: none of them starts before Retry-After', async () => {
    const limited = await app()
    const users = []
    for (let i = 0; i < 6; i++) users.push(await activeUser(api))
    // One claim takes all six: four start at once (the app's limit), the last two wait in the worker.
    await pause(api, limited.id)
    for (const user of users) await assign(api, limited.id, user.id)
    const clock = arrivals(proxy)
    proxy.inject({ kind: 'status', status: 429, retryAfter: '2', detail: 'too many requests' })
    await resume(api, limited.id)
    const until = Date.parse(await eventually('the app to be held', () => rateLimitedUntil(limited.id)))
    for (const user of users) await provisioned(limited.id, user.id)
    clock.stop()

    const arrivedAt = (login: string) =>
      proxy
        .requests()
        .flatMap((request, i) => (request.path.includes(encodeURIComponent(login)) ? [clock.seen[0][i]] : []))
    for (const user of users.slice(4)) {
      const [first] = arrivedAt(user.profile.login)
      expect(first).toBeGreaterThanOrEqual(until)
    }
  })

  test('an HTTP-date Retry-After holds the app until exactly that instant', async () => {
    const { id: appId } = await app()
    const user = await activeUser(api)
    const clock = arrivals(proxy)
    const at = new Date(Math.ceil((Date.now() + 5_000) / 1_000) * 1_000)
    proxy.inject({ kind: 'status', status: 429, retryAfter: at.toUTCString() })
    const { id: appUserId } = await assign(api, appId, user.id)

    expect(await eventually('the app to be held', () => rateLimitedUntil(appId))).toBe(at.toISOString())
    await provisioned(appId, user.id)
    clock.stop()
    expect(clock.seen[0].length).toBe(3)
    expect(clock.seen[0][1]).toBeGreaterThanOrEqual(at.getTime())
    const events = await eventsOf(appUserId, 'application.integration.rate_limit_exceeded')
    expect(events).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ httpStatus: 429, pausedUntil: at.toISOString() }) }),
    ])
  })
})

describe('409 on create', () => {
  test('an account created by someone else between the lookup and the POST is looked up again and linked', async () => {
    const { id: appId } = await app()
    const user = await activeUser(api)
    // The POST waits at the proxy; meanwhile another client creates the account, so the POST meets a real 409.
    proxy.inject({ kind: 'delay', ms: 600 }, { method: 'POST' })
    await assign(api, appId, user.id)
    await eventually('the POST to reach the proxy', () => sent('POST').length === 1)
    const rival = await new ScimClient({ baseUrl: scim.baseUrl, token: scim.token }).create({
      userName: user.profile.login,
      active: false,
    })
    if (!rival.ok) throw new Error(JSON.stringify(rival))

    const row = await provisioned(appId, user.id)
    expect(row).toMatchObject({ externalId: rival.body.id, syncState: 'SYNCHRONIZED' })
    expect(accountsOf(user.profile.login)).toEqual([
      expect.objectContaining({ id: rival.body.id, externalId: user.id, active: true }),
    ])
    expect(sent('POST')).toHaveLength(1)
    const attempts = await attemptsOf(appId, user.id)
    expect(summary(attempts)).toEqual([
      'LINK PUT 200 SUCCEEDED',
      'LINK GET 200 SUCCEEDED',
      'CREATE POST 409 SUCCEEDED',
      'LINK GET 200 SUCCEEDED',
    ])
    expect(attempts[2].detail).toContain('linking the existing account')
  })

  test('a 409 whose lookup finds nothing ends in ERROR after one POST, not in a loop', async () => {
    const { id: appId } = await app()
    const user = await activeUser(api)
    proxy.inject(
      { kind: 'status', status: 409, scimType: 'uniqueness', detail: 'userName is already taken' },
      { method: 'POST' },
    )
    await assign(api, appId, user.id)

    const row = await failed(appId, user.id)
    expect(row).toMatchObject({ status: 'STAGED', externalId: null })
    expect(row.provisioningError.causes).toEqual([expect.stringContaining('no account with userName')])
    expect(sent('POST')).toHaveLength(1)
    expect(summary(await attemptsOf(appId, user.id))).toEqual([
      'LINK GET 200 SUCCEEDED',
      'CREATE POST 409 FAILED',
      'LINK GET 200 SUCCEEDED',
    ])
    expect(accountsOf(user.profile.login)).toEqual([])
  })
})

describe('slow answers and dropped connections', () => {
  test('a create answered after the timeout is retried; the retry creates or links: exactly one account', async () => {
    const { id: appId } = await app()
    const user = await activeUser(api)
    const postsBefore = scim.requestCount('POST')
    proxy.inject({ kind: 'delay', ms: TIMEOUT_MS + 500 }, { method: 'POST' })
    await assign(api, appId, user.id)

    const row = await provisioned(appId, user.id)
    // The slow POST still reaches the downstream after the retry: it may not make a second account.
    await eventually('the slow POST to be answered', () => scim.requestCount('POST') === postsBefore + 2)
    expect(accountsOf(user.profile.login)).toEqual([expect.objectContaining({ id: row.externalId })])
    const attempts = await attemptsOf(appId, user.id)
    expect(attempts.at(-2)).toMatchObject({
      operation: 'CREATE',
      httpStatus: null,
      outcome: 'RETRY_SCHEDULED',
      detail: 'no answer within the timeout',
    })
  })

  test("a slow create that happened downstream is linked by the retry's lookup, not created twice", async () => {
    const { id: appId } = await app()
    const user = await activeUser(api)
    proxy.inject({ kind: 'delay', ms: TIMEOUT_MS + 500 }, { method: 'POST' })
    await assign(api, appId, user.id)
    await eventually('the POST to reach the proxy', () => sent('POST').length === 1)
    // The retry's lookup is slow too (inside the timeout): it reaches the downstream after the slow create.
    proxy.inject({ kind: 'delay', ms: TIMEOUT_MS - 800 }, { method: 'GET' })

    const row = await provisioned(appId, user.id)
    const [account] = accountsOf(user.profile.login)
    expect(accountsOf(user.profile.login)).toHaveLength(1)
    expect(row.externalId).toBe(account.id)
    expect(sent('POST')).toHaveLength(1)
    expect(summary(await attemptsOf(appId, user.id))).toEqual([
      'LINK PUT 200 SUCCEEDED',
      'LINK GET 200 SUCCEEDED',
      'CREATE POST null RETRY_SCHEDULED',
      'LINK GET 200 SUCCEEDED',
    ])
  })

  test('a connection dropped before the downstream saw the request is retried', async () => {
    const { id: appId } = await app()
    const user = await activeUser(api)
    proxy.inject({ kind: 'drop' }, { method: 'POST' })
    await assign(api, appId, user.id)

    const row = await provisioned(appId, user.id)
    expect(accountsOf(user.profile.login)).toEqual([expect.objectContaining({ id: row.externalId })])
    expect(sent('POST')).toHaveLength(2)
    const attempts = await attemptsOf(appId, user.id)
    expect(summary(attempts)).toEqual([
      'CREATE POST 201 SUCCEEDED',
      'LINK GET 200 SUCCEEDED',
      'CREATE POST null RETRY_SCHEDULED',
      'LINK GET 200 SUCCEEDED',
    ])
    expect(attempts[2].detail).toMatch(/^connection failed/)
  })

  test('a connection dropped after the downstream created the account ends linked to that one account', async () => {
    const { id: appId } = await app()
    const user = await activeUser(api)
    proxy.inject({ kind: 'after-forward-drop' }, { method: 'POST' })
    await assign(api, appId, user.id)

    const row = await provisioned(appId, user.id)
    const accounts = accountsOf(user.profile.login)
    expect(accounts).toEqual([expect.objectContaining({ id: row.externalId, active: true })])
    expect(sent('POST')).toHaveLength(1)
    expect(summary(await attemptsOf(appId, user.id))).toEqual([
      'LINK PUT 200 SUCCEEDED',
      'LINK GET 200 SUCCEEDED',
      'CREATE POST null RETRY_SCHEDULED',
      'LINK GET 200 SUCCEEDED',
    ])
  })
})

test('per app user order under load: assign, unassign, assign, unassign of 20 users end deactivated downstream', async () => {
  const { id: appId } = await app()
  proxy.inject({ kind: 'delay', ms: 50 }, { times: Infinity })
  const users = await Promise.all(Array.from({ length: 20 }, () => activeUser(api)))
  const lookedUp = (login: string) =>
    proxy.requests().some((request) => request.method === 'GET' && request.path.includes(encodeURIComponent(login)))
  const rows = await Promise.all(
    users.map(async (user, i) => {
      const { id } = await assign(api, appId, user.id)
      // Half the users are unassigned only once their create is under way downstream, so that some
      // accounts surely exist before the jobs that follow them; the others race the worker.
      if (i % 2 === 0) await eventually('the create to reach the downstream', async () => lookedUp(user.profile.login))
      await unassign(api, appId, user.id)
      await assign(api, appId, user.id)
      await unassign(api, appId, user.id)
      return id as string
    }),
  )
  for (const appUserId of rows) {
    await eventually('the queue to drain', async () =>
      (await jobsOf(api, appUserId)).every((job) => !/:(QUEUED|RUNNING)$/.test(job)),
    )
  }

  const log = proxy.requests()
  for (const user of users) {
    const row = await appUser(api, appId, user.id)
    expect(row).toMatchObject({ status: 'DEPROVISIONED', provisioningError: null })
    const accounts = accountsOf(user.profile.login)
    expect(accounts.length).toBeLessThanOrEqual(1)
    const oldestFirst = (await attemptsOf(appId, user.id)).reverse()
    const operations = oldestFirst.map((attempt: any) => attempt.operation)
    if (accounts.length === 0) {
      expect(row.externalId).toBeNull()
      continue
    }
    const [account] = accounts
    expect(account.active).toBe(false)
    expect(row.externalId).toBe(account.id)
    // The jobs' order: the create (or link) first, then deactivations and reactivations.
    const created = operations.findIndex((operation: string) => operation === 'CREATE' || operation === 'LINK')
    const toggles = operations.filter((operation: string) => operation === 'DEACTIVATE' || operation === 'REACTIVATE')
    expect(created).toBe(0)
    expect(operations.slice(operations.findIndex((op: string) => op === 'DEACTIVATE'))).toEqual(toggles)
    // A deactivation last, and a reactivation only ever after a deactivation. Two deactivations may
    // follow each other: an unassign cancels the queued reactivation between them, not the one sent.
    expect(toggles.at(-1)).toBe('DEACTIVATE')
    toggles.forEach((operation: string, i: number) => {
      if (operation === 'REACTIVATE') expect(toggles[i - 1]).toBe('DEACTIVATE')
    })
    // What reached the downstream agrees: the account's PATCHes all after the lookup that preceded its creation.
    const lookup = log.findIndex(
      (request) => request.method === 'GET' && request.path.includes(encodeURIComponent(user.profile.login)),
    )
    const patches = log.flatMap((request, i) =>
      request.method === 'PATCH' && request.path === `/Users/${account.id}` ? [i] : [],
    )
    expect(patches).toHaveLength(toggles.length)
    for (const i of patches) expect(i).toBeGreaterThan(lookup)
  }
  expect(scim.requestCount('DELETE')).toBe(0)
  // Not vacuous: some accounts were created and then deactivated.
  expect(users.some((user) => accountsOf(user.profile.login).length === 1)).toBe(true)
})

describe('after an ERROR', () => {
  test('retryProvisioning once the fault is gone provisions the user', async () => {
    const { id: appId } = await app()
    const user = await activeUser(api)
    proxy.inject({ kind: 'status', status: 400, detail: 'bad request' }, { method: 'POST' })
    await assign(api, appId, user.id)
    await failed(appId, user.id)

    expect(await operate('retryProvisioning', { appId, userId: user.id })).toMatchObject({
      syncState: 'OUT_OF_SYNC',
      provisioningError: null,
    })
    const row = await provisioned(appId, user.id)
    expect(row).toMatchObject({ syncState: 'SYNCHRONIZED', provisioningError: null })
    expect(accountsOf(user.profile.login)).toEqual([expect.objectContaining({ id: row.externalId })])
  })

  test('dismissProvisioningError keeps the status and sets OUT_OF_SYNC, sending nothing', async () => {
    const { id: appId } = await app()
    const user = await activeUser(api)
    proxy.inject({ kind: 'status', status: 400, detail: 'bad request' }, { method: 'POST' })
    const { id: appUserId } = await assign(api, appId, user.id)
    await failed(appId, user.id)

    expect(await operate('dismissProvisioningError', { appId, userId: user.id })).toEqual({
      status: 'STAGED',
      syncState: 'OUT_OF_SYNC',
      provisioningError: null,
    })
    expect(await jobsOf(api, appUserId)).toEqual(['CREATE:FAILED'])
    expect(await appUser(api, appId, user.id)).toMatchObject({ status: 'STAGED', syncState: 'OUT_OF_SYNC' })
  })
})

test('the attempt log never holds the token or a password, even when the downstream echoes them back', async () => {
  const { id: appId } = await app()
  const user = await activeUser(api)
  // The create carries a random seed password (update.password seed RANDOM): this downstream quotes it back.
  let password: string | undefined
  proxy.inject({ kind: 'status', status: 401, detail: `token Bearer ${scim.token} is not valid` })
  proxy.inject(
    {
      kind: 'status',
      status: 400,
      detail: (body) => {
        password = JSON.parse(body).password
        return `invalid resource ${body}`
      },
    },
    { method: 'POST' },
  )
  await assign(api, appId, user.id)
  await failed(appId, user.id)
  await operate('retryProvisioning', { appId, userId: user.id })
  const row = await failed(appId, user.id)

  expect(password).toEqual(expect.any(String))
  const logged = JSON.stringify([await attemptsOf(appId, user.id), row.provisioningError])
  expect(logged).toContain('[redacted]')
  expect(logged).not.toContain(scim.token)
  expect(logged).not.toContain(password)
})

test("an app user's jobs run one after another: a reactivation waits for the slow deactivation queued before it", async () => {
  const target = await app()
  const user = await activeUser(api)
  await assign(api, target.id, user.id)
  const provisioned = await appUserWhen(api, target.id, user.id, (row) => row.status === 'PROVISIONED')
  await pause(api, target.id)
  await unassign(api, target.id, user.id)
  await assign(api, target.id, user.id)
  // The deactivation's PATCH is slow: were both jobs claimed together, the reactivation would land first
  // and the late deactivation would leave the account disabled under a PROVISIONED app user.
  proxy.inject({ kind: 'delay', ms: 500 }, { method: 'PATCH' })
  await resume(api, target.id)
  await eventually('both jobs settled', async () =>
    (await jobsOf(api, provisioned.id)).every((job) => job.endsWith(':SUCCEEDED')) ? true : null,
  )
  expect(await appUser(api, target.id, user.id)).toMatchObject({ status: 'PROVISIONED', syncState: 'SYNCHRONIZED' })
  expect(accountsOf(user.profile.login)).toEqual([
    expect.objectContaining({ id: provisioned.externalId, active: true }),
  ])
})

describe('jobs a worker has claimed but not yet sent', () => {
  /**
   * Six users assigned to an app on a server of its own whose requests never time out: the first four
   * lookups are left unanswered, so they keep the app's four slots taken for as long as the test needs,
   * and the last two jobs wait claimed and unsent, whatever the load. The proxy is closed after the test.
   */
  async function twoJobsWaitingClaimed(patient: TestServer) {
    const target = await provisionedApp(patient, { baseUrl: proxy.baseUrl, token: scim.token })
    const users = []
    for (let i = 0; i < 6; i++) users.push(await activeUser(patient))
    await pause(patient, target.id)
    for (const user of users) await assign(patient, target.id, user.id)
    proxy.inject({ kind: 'hang' }, { method: 'GET', times: 4 })
    await resume(patient, target.id)
    const appUserIds = await Promise.all(users.map(async (user) => (await appUser(patient, target.id, user.id)).id))
    await eventually('every job claimed', async () => {
      const jobs = await Promise.all(appUserIds.map((id) => jobsOf(patient, id)))
      return jobs.every((of) => of.length === 1 && of[0] === 'CREATE:RUNNING') ? true : null
    })
    await eventually('four lookups in flight', () => sent('GET').length === 4)
    return { target, waiting: users.slice(4), waitingAppUserIds: appUserIds.slice(4) }
  }

  let patient: TestServer
  beforeEach(async () => {
    patient = await startTestServer({}, { provisioning: { pollMs: 50, random: () => 0, timeoutMs: 600_000 } })
  })
  afterEach(async () => {
    await proxy.close()
    await patient.close()
  })

  test('pausing the app hands them back to the queue, unsent; resumed, they are claimed again', async () => {
    const { target, waiting, waitingAppUserIds } = await twoJobsWaitingClaimed(patient)
    const jobsOfWaiting = () =>
      patient.database.db.prisma.provisioningJob.findMany({
        where: { appUserId: { in: waitingAppUserIds } },
        orderBy: { id: 'asc' },
      })

    await pause(patient, target.id)
    for (const user of waiting) {
      const row = await appUserWhen(patient, target.id, user.id, (row) => row.syncState !== 'SYNCING')
      expect(row).toMatchObject({ status: 'STAGED', syncState: 'OUT_OF_SYNC', externalId: null })
    }
    expect((await jobsOfWaiting()).map((job) => [job.type, job.state, job.attempts, job.leasedBy])).toEqual([
      ['CREATE', 'QUEUED', 0, null],
      ['CREATE', 'QUEUED', 0, null],
    ])
    expect(sent()).toHaveLength(4)

    await resume(patient, target.id)
    await eventually('the jobs handed back claimed again', async () =>
      (await jobsOfWaiting()).every((job) => job.state === 'RUNNING') ? true : null,
    )
  })

  test('an unassign withdraws their creates: nothing reaches the downstream for them', async () => {
    const { target, waiting: withdrawn, waitingAppUserIds } = await twoJobsWaitingClaimed(patient)

    for (const user of withdrawn) await unassign(patient, target.id, user.id)
    for (const [index, user] of withdrawn.entries()) {
      const row = await appUserWhen(patient, target.id, user.id, (row) => row.syncState !== 'SYNCING')
      expect(row).toMatchObject({ status: 'DEPROVISIONED', syncState: 'OUT_OF_SYNC', externalId: null })
      expect(await jobsOf(patient, waitingAppUserIds[index])).toEqual(['CREATE:SUCCEEDED'])
      const attempts = await appUser(patient, target.id, user.id, 'attempts(first: 10) { edges { node { path } } }')
      expect(attempts.attempts.edges).toEqual([])
    }
    // The four slots are still taken: had the withdrawn jobs been left ready, they would wait for one, not settle.
    expect(sent()).toHaveLength(4)
    expect(
      sent().filter(({ path }) => withdrawn.some((user) => path.includes(encodeURIComponent(user.profile.login)))),
    ).toEqual([])
  })
})
