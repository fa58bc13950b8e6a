import { jobRows } from '../../src/provisioning/job-rows'
import { startTestServer, type TestServer } from '../support/harness'
import { createUser, lifecycle } from '../support/users'
import {
  appUser,
  assignUser,
  createApp,
  enableProvisioning,
  jobsOf,
  markProvisioned,
  markProvisioningError,
  unassignUser,
} from '../support/directory'

// The provisioning operations of api.md, through the API: retry, retry an app, dismiss, pause and resume.
let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

const PASSWORD = 'correct horse battery'
const APP_USER = 'id status syncState externalId provisioningError { summary }'
const ERRORS = 'userErrors { code message field }'

async function operate(mutation: string, input: Record<string, unknown>, fields: string) {
  const name = `${mutation[0].toUpperCase()}${mutation.slice(1)}Input`
  const response = await api.gql(`mutation($input: ${name}!) { ${mutation}(input: $input) { ${fields} ${ERRORS} } }`, {
    input,
  })
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  return response.data[mutation]
}
const retry = (appId: string, userId: string) =>
  operate('retryProvisioning', { appId, userId }, `appUser { ${APP_USER} }`)
const dismiss = (appId: string, userId: string) =>
  operate('dismissProvisioningError', { appId, userId }, `appUser { ${APP_USER} }`)
const retryApp = (appId: string) => operate('retryAppProvisioning', { appId }, 'app { id } requeued')
const provisioningFields = 'app { id provisioning { paused rateLimitedUntil } }'
const pause = (appId: string) => operate('pauseProvisioning', { appId }, provisioningFields)
const resume = (appId: string) => operate('resumeProvisioning', { appId }, provisioningFields)

async function readAppUser(appId: string, userId: string) {
  const response = await api.gql(
    `query($appId: ID!, $userId: ID!) { appUser(appId: $appId, userId: $userId) { ${APP_USER} } }`,
    {
      appId,
      userId,
    },
  )
  return response.data.appUser
}

async function eventsOf(targetId: string, types: string[]) {
  const response = await api.gql(
    `query($filter: EventFilter) { events(filter: $filter, first: 50) { edges { node { type data } } } }`,
    { filter: { targetId, types } },
  )
  return response.data.events.edges.map((edge: any) => edge.node)
}

/** A provisioning app and a user assigned to it (STAGED, a CREATE queued). */
async function assigned(capabilities: { deactivate?: boolean } = {}) {
  const app = await createApp(api)
  await enableProvisioning(api, app.id, capabilities)
  const user = (await createUser(api, { password: PASSWORD })).user
  const { appUser: row } = await assignUser(api, app.id, user.id)
  return { app, user, appUser: row }
}

describe('retryProvisioning', () => {
  test('a failed create is queued again: the error is cleared, syncState OUT_OF_SYNC, a CREATE queued, the event recorded', async () => {
    const { app, user, appUser: row } = await assigned()
    await markProvisioningError(api, row.id)
    expect((await readAppUser(app.id, user.id)).provisioningError).toEqual({ summary: 'downstream refused' })

    const result = await retry(app.id, user.id)
    expect(result.userErrors).toEqual([])
    expect(result.appUser).toEqual({
      id: row.id,
      status: 'STAGED',
      syncState: 'OUT_OF_SYNC',
      externalId: null,
      provisioningError: null,
    })
    expect(await readAppUser(app.id, user.id)).toEqual(result.appUser)
    expect(await jobsOf(api, row.id)).toEqual(['CREATE:FAILED', 'CREATE:QUEUED'])
    expect(await eventsOf(row.id, ['application.provision.user.retry'])).toEqual([
      {
        type: 'application.provision.user.retry',
        data: {
          appUserId: row.id,
          appId: app.id,
          userId: user.id,
          previousStatus: 'STAGED',
          status: 'STAGED',
          previousSyncState: 'ERROR',
          syncState: 'OUT_OF_SYNC',
          job: 'CREATE',
        },
      },
    ])
  })

  test('work still queued is replaced, not doubled', async () => {
    const { app, user, appUser: row } = await assigned()
    expect(await jobsOf(api, row.id)).toEqual(['CREATE:QUEUED'])
    expect((await retry(app.id, user.id)).userErrors).toEqual([])
    const jobs = await api.database.db.prisma.provisioningJob.findMany({ where: { appUserId: row.id } })
    expect(jobs.map((job) => `${job.type}:${job.state}`)).toEqual(['CREATE:QUEUED'])
  })

  test('a provisioned app user in ERROR keeps its status and gets an UPDATE', async () => {
    const { app, user, appUser: row } = await assigned()
    await markProvisioned(api, row.id)
    await markProvisioningError(api, row.id)
    const result = await retry(app.id, user.id)
    expect(result.appUser).toMatchObject({
      status: 'PROVISIONED',
      syncState: 'OUT_OF_SYNC',
      externalId: `ext-${row.id}`,
    })
    expect(await jobsOf(api, row.id)).toEqual(['CREATE:SUCCEEDED', 'UPDATE:QUEUED'])
  })

  test('nothing to retry (a DEPROVISIONED app user of an app that does not deactivate) is INVALID_TRANSITION naming the state', async () => {
    const { app, user, appUser: row } = await assigned({ deactivate: false })
    await markProvisioned(api, row.id)
    await unassignUser(api, app.id, user.id)
    const before = await readAppUser(app.id, user.id)
    expect(before.status).toBe('DEPROVISIONED')
    const result = await retry(app.id, user.id)
    expect(result.appUser).toBeNull()
    expect(result.userErrors).toEqual([
      { code: 'INVALID_TRANSITION', message: expect.stringContaining('DEPROVISIONED'), field: ['userId'] },
    ])
    expect(await readAppUser(app.id, user.id)).toEqual(before)
    expect(await jobsOf(api, row.id)).toEqual(['CREATE:SUCCEEDED'])
  })

  test('an app without provisioning is PROVISIONING_NOT_ENABLED', async () => {
    const app = await createApp(api)
    const user = (await createUser(api, { password: PASSWORD })).user
    await assignUser(api, app.id, user.id)
    const result = await retry(app.id, user.id)
    expect(result.userErrors.map((error: any) => error.code)).toEqual(['PROVISIONING_NOT_ENABLED'])
  })

  test('an unknown app or a user not assigned is NOT_FOUND naming the input', async () => {
    const { app } = await assigned()
    const stranger = (await createUser(api, { password: PASSWORD })).user
    expect((await retry('app_missing', stranger.id)).userErrors).toEqual([
      expect.objectContaining({ code: 'NOT_FOUND', field: ['appId'] }),
    ])
    expect((await retry(app.id, stranger.id)).userErrors).toEqual([
      expect.objectContaining({ code: 'NOT_FOUND', field: ['userId'] }),
    ])
  })
})

describe('retryAppProvisioning', () => {
  test('requeues exactly the app users in ERROR, of this app only', async () => {
    const app = await createApp(api)
    await enableProvisioning(api, app.id)
    const users = []
    for (let i = 0; i < 4; i++) {
      const user = (await createUser(api, { password: PASSWORD })).user
      users.push({ user, appUser: (await assignUser(api, app.id, user.id)).appUser })
    }
    const [failedCreate, failedUpdate, synchronized, queued] = users
    await markProvisioningError(api, failedCreate.appUser.id)
    await markProvisioned(api, failedUpdate.appUser.id)
    await markProvisioningError(api, failedUpdate.appUser.id)
    await markProvisioned(api, synchronized.appUser.id)
    const elsewhere = await assigned()
    await markProvisioningError(api, elsewhere.appUser.id)

    const result = await retryApp(app.id)
    expect(result).toEqual({ app: { id: app.id }, requeued: 2, userErrors: [] })
    expect(await jobsOf(api, failedCreate.appUser.id)).toEqual(['CREATE:FAILED', 'CREATE:QUEUED'])
    expect(await jobsOf(api, failedUpdate.appUser.id)).toEqual(['CREATE:SUCCEEDED', 'UPDATE:QUEUED'])
    expect(await jobsOf(api, synchronized.appUser.id)).toEqual(['CREATE:SUCCEEDED'])
    expect(await jobsOf(api, queued.appUser.id)).toEqual(['CREATE:QUEUED'])
    const states = await Promise.all(users.map(({ user }) => readAppUser(app.id, user.id)))
    expect(states.map((row) => `${row.status}:${row.syncState}:${row.provisioningError?.summary ?? '-'}`)).toEqual([
      'STAGED:OUT_OF_SYNC:-',
      'PROVISIONED:OUT_OF_SYNC:-',
      'PROVISIONED:SYNCHRONIZED:-',
      'STAGED:OUT_OF_SYNC:-',
    ])
    expect((await readAppUser(elsewhere.app.id, elsewhere.user.id)).syncState).toBe('ERROR')
    expect(await eventsOf(failedCreate.appUser.id, ['application.provision.user.retry'])).toHaveLength(1)
    expect(await eventsOf(synchronized.appUser.id, ['application.provision.user.retry'])).toHaveLength(0)

    expect(await retryApp(app.id)).toEqual({ app: { id: app.id }, requeued: 0, userErrors: [] })
  })

  test('an app without provisioning is PROVISIONING_NOT_ENABLED; an unknown one NOT_FOUND', async () => {
    const app = await createApp(api)
    expect((await retryApp(app.id)).userErrors.map((error: any) => error.code)).toEqual(['PROVISIONING_NOT_ENABLED'])
    expect(await retryApp('app_missing')).toMatchObject({ app: null, requeued: 0, userErrors: [{ code: 'NOT_FOUND' }] })
  })
})

describe('dismissProvisioningError', () => {
  test('clears the error without retrying: status kept, syncState OUT_OF_SYNC, no job', async () => {
    const { app, user, appUser: row } = await assigned()
    await markProvisioned(api, row.id)
    await markProvisioningError(api, row.id)
    const result = await dismiss(app.id, user.id)
    expect(result.userErrors).toEqual([])
    expect(result.appUser).toMatchObject({ status: 'PROVISIONED', syncState: 'OUT_OF_SYNC', provisioningError: null })
    expect(await jobsOf(api, row.id)).toEqual(['CREATE:SUCCEEDED'])
    expect(await eventsOf(row.id, ['application.provision.user.dismiss'])).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({ previousSyncState: 'ERROR', syncState: 'OUT_OF_SYNC', status: 'PROVISIONED' }),
      }),
    ])
  })

  test('an app user not in ERROR is INVALID_TRANSITION and stays as it is', async () => {
    const { app, user, appUser: row } = await assigned()
    const result = await dismiss(app.id, user.id)
    expect(result.userErrors).toEqual([
      expect.objectContaining({ code: 'INVALID_TRANSITION', message: expect.stringContaining('OUT_OF_SYNC') }),
    ])
    expect(await jobsOf(api, row.id)).toEqual(['CREATE:QUEUED'])
  })
})

describe('pauseProvisioning and resumeProvisioning', () => {
  /** How many of the app's jobs a worker could claim now (claimed in a transaction rolled back: nothing is taken). */
  async function claimable(appId: string) {
    let count = 0
    const rollback = new Error('rollback')
    await api.database.db
      .transaction(async (sql) => {
        const jobs = await jobRows.claim(sql, { workerId: 'probe', limit: 100, leaseSeconds: 30, now: new Date() })
        count = jobs.filter((job) => job.appId === appId).length
        throw rollback
      })
      .catch((error: unknown) => {
        if (error !== rollback) throw error
      })
    return count
  }

  test('a paused app keeps its queue, unclaimable until resumed; pausing twice is one pause', async () => {
    const { app, user } = await assigned()
    const paused = await pause(app.id)
    expect(paused).toEqual({
      app: { id: app.id, provisioning: { paused: true, rateLimitedUntil: null } },
      userErrors: [],
    })
    expect(await pause(app.id)).toEqual(paused)
    expect((await eventsOf(app.id, ['application.provision.pause'])).length).toBe(1)

    // Work queued while paused waits too.
    const other = (await createUser(api, { password: PASSWORD })).user
    await assignUser(api, app.id, other.id)
    expect(await readAppUser(app.id, user.id)).toMatchObject({ status: 'STAGED', syncState: 'OUT_OF_SYNC' })
    expect(await claimable(app.id)).toBe(0)

    expect(await resume(app.id)).toEqual({
      app: { id: app.id, provisioning: { paused: false, rateLimitedUntil: null } },
      userErrors: [],
    })
    expect(await resume(app.id)).toMatchObject({ userErrors: [] })
    expect((await eventsOf(app.id, ['application.provision.resume'])).length).toBe(1)
    expect(await claimable(app.id)).toBe(2)
  })

  test('an unknown app is NOT_FOUND', async () => {
    expect((await pause('app_missing')).userErrors).toEqual([
      expect.objectContaining({ code: 'NOT_FOUND', field: ['appId'] }),
    ])
    expect((await resume('app_missing')).userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })])
  })
})

test('App.provisioning.rateLimitedUntil shows a 429 hold only while it holds', async () => {
  const app = await createApp(api)
  const read = async () =>
    (await api.gql(`query($id: ID!) { app(id: $id) { provisioning { paused rateLimitedUntil } } }`, { id: app.id }))
      .data.app.provisioning
  const until = new Date(Date.now() + 3_600_000)
  await api.database.db.prisma.app.update({ where: { id: app.id }, data: { provisioningRateLimitedUntil: until } })
  expect(await read()).toEqual({ paused: false, rateLimitedUntil: until.toISOString() })
  await api.database.db.prisma.app.update({
    where: { id: app.id },
    data: { provisioningRateLimitedUntil: new Date(Date.now() - 1000) },
  })
  expect(await read()).toEqual({ paused: false, rateLimitedUntil: null })
})

describe('AppUser.attempts', () => {
  const ATTEMPTS = `query($appId: ID!, $userId: ID!, $first: Int, $after: String, $last: Int, $before: String) {
    appUser(appId: $appId, userId: $userId) { attempts(first: $first, after: $after, last: $last, before: $before) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
      edges { node { id operation method path httpStatus durationMs outcome detail at } } } } }`

  test('pages newest first, forward and backward', async () => {
    const { app, user, appUser: row } = await assigned()
    const base = Date.parse('2030-01-01T00:00:00.000Z')
    for (let i = 0; i < 5; i++) {
      await api.database.db.prisma.provisioningAttempt.create({
        data: {
          appUserId: row.id,
          appId: app.id,
          operation: i === 4 ? 'LINK' : 'CREATE',
          method: i === 4 ? 'GET' : 'POST',
          path: '/Users',
          httpStatus: i === 4 ? 200 : 503,
          durationMs: 10 + i,
          outcome: i === 4 ? 'SUCCEEDED' : 'RETRY_SCHEDULED',
          detail: i === 4 ? null : `unavailable ${i}`,
          at: new Date(base + i * 1000),
        },
      })
    }
    const page = async (args: Record<string, unknown>) => {
      const response = await api.gql(ATTEMPTS, { appId: app.id, userId: user.id, ...args })
      if (response.errors) throw new Error(JSON.stringify(response.errors))
      return response.data.appUser.attempts
    }
    const durations = (attempts: any) => attempts.edges.map((edge: any) => edge.node.durationMs)

    const first = await page({ first: 2 })
    expect(first.totalCount).toBe(5)
    expect(first.edges[0].node).toEqual({
      id: expect.stringMatching(/^att_\d+$/),
      operation: 'LINK',
      method: 'GET',
      path: '/Users',
      httpStatus: 200,
      durationMs: 14,
      outcome: 'SUCCEEDED',
      detail: null,
      at: new Date(base + 4000).toISOString(),
    })
    expect(durations(first)).toEqual([14, 13])
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false })
    const second = await page({ first: 2, after: first.pageInfo.endCursor })
    expect(durations(second)).toEqual([12, 11])
    const third = await page({ first: 2, after: second.pageInfo.endCursor })
    expect(durations(third)).toEqual([10])
    expect(third.pageInfo.hasNextPage).toBe(false)

    const oldest = await page({ last: 2 })
    expect(durations(oldest)).toEqual([11, 10])
    expect(oldest.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true })
    expect(durations(await page({ last: 2, before: oldest.pageInfo.startCursor }))).toEqual([13, 12])

    const forged = await api.gql(ATTEMPTS, {
      appId: app.id,
      userId: user.id,
      after: Buffer.from('attempt:1 OR 1=1').toString('base64url'),
    })
    expect(forged.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT')
  })

  test('an attempt is a Node: node(id) reads it with apps:read and refuses it without', async () => {
    const { app, user, appUser: row } = await assigned()
    await api.database.db.prisma.provisioningAttempt.create({
      data: {
        appUserId: row.id,
        appId: app.id,
        operation: 'CREATE',
        method: 'POST',
        path: '/Users',
        durationMs: 5,
        outcome: 'SUCCEEDED',
      },
    })
    const listed = await api.gql(ATTEMPTS, { appId: app.id, userId: user.id, first: 1 })
    const attempt = listed.data.appUser.attempts.edges[0].node
    const NODE = `query($id: ID!) { node(id: $id) { __typename id ... on ProvisioningAttempt { operation method path } } }`
    const read = await api.gql(NODE, { id: attempt.id }, await api.tokenWith('apps:read'))
    expect(read.data.node).toEqual({
      __typename: 'ProvisioningAttempt',
      id: attempt.id,
      operation: 'CREATE',
      method: 'POST',
      path: '/Users',
    })
    const refused = await api.gql(NODE, { id: attempt.id }, await api.tokenWith('users:read'))
    expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN'])
    for (const id of ['att_99999999', 'att_x', `att_${2n ** 64n}`])
      expect((await api.gql(NODE, { id })).data.node).toBeNull()
  })

  test('an app user with no attempts has an empty list', async () => {
    const { app, user } = await assigned()
    const response = await api.gql(ATTEMPTS, { appId: app.id, userId: user.id, first: 5 })
    expect(response.data.appUser.attempts).toMatchObject({ totalCount: 0, edges: [] })
  })

  test('needs apps:read', async () => {
    const { app, user } = await assigned()
    const token = await api.tokenWith('users:read', 'events:read')
    const response = await api.gql(ATTEMPTS, { appId: app.id, userId: user.id, first: 1 }, token)
    expect(response.errors?.[0]?.extensions?.code).toBe('FORBIDDEN')
    expect(response.data?.appUser ?? null).toBeNull()
  })
})

test('a deactivated user: their app user is DEPROVISIONED, and retry queues the downstream deactivation', async () => {
  const { app, user, appUser: row } = await assigned({ deactivate: true })
  await markProvisioned(api, row.id)
  await lifecycle(api, 'deactivateUser', user.id)
  await markProvisioningError(api, row.id)
  const result = await retry(app.id, user.id)
  expect(result.appUser).toMatchObject({ status: 'DEPROVISIONED', syncState: 'OUT_OF_SYNC' })
  expect(await jobsOf(api, row.id)).toEqual(['CREATE:SUCCEEDED', 'DEACTIVATE:FAILED', 'DEACTIVATE:QUEUED'])
  expect(await appUser(api, app.id, user.id)).toMatchObject({ status: 'DEPROVISIONED' })
})
