import { startTestServer, type TestServer } from '../support/harness'
import { composeApplication } from '../../src/app'
import { loadConfig } from '../../src/config'
import { createLogger } from '../../src/logger'
import { jobRows } from '../../src/provisioning/job-rows'
import type { JobOutcome } from '../../src/provisioning/job-runner'
import { settleJobs, type FinishedJob } from '../../src/provisioning/job-settlement'
import type { Store } from '../../src/store/transaction'
import { usingPostgres } from '../support/backend'
import { appUser, assignUser, createApp, enableProvisioning } from '../support/directory'
import { activeUser } from '../support/provisioning'

// Attacks on the provisioning engine (issue 12): a worker's settlement racing administrators' changes.
// No worker runs in the server: the test claims jobs and settles them itself, so it decides what happened
// downstream and when, and the race is between the settlement and a real use case through the API.

let api: TestServer
let store: Store
const WORKER = 'adversary-worker'

beforeAll(async () => {
  api = await startTestServer()
  store = composeApplication(loadConfig({ LOG_LEVEL: 'silent' }), api.database.db, createLogger('silent')).store
})
afterAll(() => api.close())

async function gqlOk(mutation: string, inputType: string, input: Record<string, unknown>, selection = '') {
  const response = await api.gql(
    `mutation($input: ${inputType}!) { ${mutation}(input: $input) { ${selection} userErrors { code message } } }`,
    { input },
  )
  expect(response.errors).toBeUndefined()
  expect(response.data[mutation].userErrors).toEqual([])
  return response.data[mutation]
}

/** An app with provisioning on, a user assigned to it (its CREATE queued), and that job claimed by the test's worker. */
async function claimedCreate() {
  const app = await createApp(api)
  await enableProvisioning(api, app.id, { deactivate: true })
  const user = await activeUser(api)
  const { appUser: assigned } = await assignUser(api, app.id, user.id)
  const [job] = await api.database.db.transaction((sql) =>
    jobRows.claim(sql, {
      workerId: WORKER,
      limit: 1,
      leaseSeconds: 600,
      now: new Date(Date.now() + 1000),
      roomPerApp: new Map(),
    }),
  )
  expect(job).toMatchObject({ appUserId: assigned.id, type: 'CREATE' })
  return { app, user, appUserId: assigned.id as string, job }
}

/** What a create that the downstream accepted looks like to the settlement: the lookup, then the POST. */
function created(externalId: string): JobOutcome {
  const at = new Date()
  return {
    attempts: [
      {
        operation: 'LINK',
        method: 'GET',
        path: '/Users?filter=…',
        httpStatus: 200,
        durationMs: 1,
        outcome: 'SUCCEEDED',
        detail: null,
        at,
      },
      {
        operation: 'CREATE',
        method: 'POST',
        path: '/Users',
        httpStatus: 201,
        durationMs: 1,
        outcome: 'SUCCEEDED',
        detail: null,
        at,
      },
    ],
    result: { kind: 'SUCCEEDED', operation: 'CREATE', httpStatus: 201, externalId },
  }
}

const settle = (finished: FinishedJob[]) => settleJobs(store, () => {}, WORKER, finished, new Date())

const deactivateApp = (appId: string) => gqlOk('deactivateApp', 'AppIdInput', { id: appId }, 'app { id }')
const deleteApp = (appId: string) => gqlOk('deleteApp', 'AppIdInput', { id: appId }, 'app { id }')

test('a job whose app was deleted while it ran does not sink the settlement of the jobs finished with it', async () => {
  const gone = await claimedCreate()
  const kept = await claimedCreate()
  await deactivateApp(gone.app.id)
  await deleteApp(gone.app.id)

  await settle([
    { job: gone.job, outcome: created('ext-gone') },
    { job: kept.job, outcome: created('ext-kept') },
  ])

  expect(await appUser(api, kept.app.id, kept.user.id)).toMatchObject({
    status: 'PROVISIONED',
    syncState: 'SYNCHRONIZED',
    externalId: 'ext-kept',
  })
})

const onPostgres = usingPostgres ? test : test.skip

onPostgres(
  'deleting an app while the worker settles its job: both finish, no deadlock, nothing left of the app',
  async () => {
    for (let round = 0; round < 25; round++) {
      const { app, job } = await claimedCreate()
      await deactivateApp(app.id)
      const [settled, deleted] = await Promise.allSettled([
        settle([{ job, outcome: created(`ext-${round}`) }]),
        deleteApp(app.id),
      ])
      expect([settled, deleted].map((result) => (result.status === 'rejected' ? String(result.reason) : 'ok'))).toEqual(
        ['ok', 'ok'],
      )
      expect(await api.database.db.prisma.provisioningAttempt.count({ where: { appId: app.id } })).toBe(0)
    }
  },
)

describe('bad input to the provisioning operations is a typed answer, never INTERNAL', () => {
  const OPERATIONS: [string, string, (ids: { appId: string; userId: string }) => Record<string, unknown>][] = [
    ['retryProvisioning', 'RetryProvisioningInput', (ids) => ids],
    ['dismissProvisioningError', 'DismissProvisioningErrorInput', (ids) => ids],
    ['retryAppProvisioning', 'RetryAppProvisioningInput', ({ appId }) => ({ appId })],
    ['pauseProvisioning', 'PauseProvisioningInput', ({ appId }) => ({ appId })],
    ['resumeProvisioning', 'ResumeProvisioningInput', ({ appId }) => ({ appId })],
  ]

  /** Top-level error codes other than BAD_USER_INPUT, and that a payload without errors names a userError. */
  async function untyped(mutation: string, inputType: string, input: Record<string, unknown>) {
    const response = await api.gql(
      `mutation($input: ${inputType}!) { ${mutation}(input: $input) { userErrors { code field } } }`,
      { input },
    )
    if (!response.errors) expect(response.data[mutation].userErrors).not.toEqual([])
    return (response.errors ?? []).map((error) => error.extensions?.code).filter((code) => code !== 'BAD_USER_INPUT')
  }

  test.each(OPERATIONS)(
    '%s: unknown ids, ids of another type, huge and hostile strings',
    async (mutation, type, input) => {
      const user = await activeUser(api)
      for (const bad of ['', 'app_doesnotexist', user.id, `'; DROP TABLE "App"; --`, 'x'.repeat(100_000)]) {
        expect(await untyped(mutation, type, input({ appId: bad, userId: bad }))).toEqual([])
      }
    },
  )

  // PostgreSQL refuses NUL in text: the edge refuses it first, for every argument of every operation.
  test.each(OPERATIONS)('%s: an id holding U+0000', async (mutation, type, input) => {
    expect(await untyped(mutation, type, input({ appId: '\u0000', userId: '\u0000' }))).toEqual([])
  })
})
