import { usingPostgres } from '../support/backend'
import { startTestServer, type TestServer } from '../support/harness'
import {
  addMember,
  assignGroup,
  assignUser,
  createApp,
  createGroup,
  enableProvisioning,
  unassignGroup,
  unassignUser,
} from '../support/directory'
import { createUser } from '../support/users'

// Where the deprovisioning guard's threshold lies, decided when the deactivations are queued (no
// worker runs here: the jobs are read as the outbox wrote them). The app users stand provisioned
// as a worker would leave them, written directly so that an app of 100 needs no downstream.

let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

async function setGuard(appId: string, deprovisioningGuard: Record<string, unknown>) {
  const response = await api.gql(
    `mutation($input: UpdateProvisioningConnectionInput!) {
      updateProvisioningConnection(input: $input) { userErrors { code message } } }`,
    { input: { appId, deprovisioningGuard } },
  )
  expect(response.data.updateProvisioningConnection.userErrors).toEqual([])
}

/** Stands in for the worker: every app user of the app is PROVISIONED with a downstream account. */
async function markAllProvisioned(appId: string, except: string[] = []) {
  const prisma = api.database.db.prisma
  await prisma.provisioningJob.updateMany({ where: { appId, state: 'QUEUED' }, data: { state: 'SUCCEEDED' } })
  const rows = await prisma.appUser.findMany({ where: { appId, id: { notIn: except } }, select: { id: true } })
  for (const { id } of rows) {
    await prisma.appUser.update({
      where: { id },
      data: { status: 'PROVISIONED', syncState: 'SYNCHRONIZED', externalId: `ext-${id}` },
    })
  }
}

/** The app's DEACTIVATE jobs by state, e.g. { QUEUED: 10, HELD: 90 }. */
async function deactivations(appId: string) {
  const jobs = await api.database.db.prisma.provisioningJob.groupBy({
    by: ['state'],
    where: { appId, type: 'DEACTIVATE' },
    _count: { _all: true },
  })
  return Object.fromEntries(jobs.map((row) => [row.state, row._count._all]))
}

async function trips(appId: string) {
  const response = await api.gql(
    `query($filter: EventFilter) { events(filter: $filter, first: 10) { edges { node { data } } } }`,
    { filter: { targetId: appId, types: ['application.provision.guard.trip'] } },
  )
  return response.data.events.edges.map((edge: any) => edge.node.data)
}

async function newUsers(count: number) {
  const users: { id: string }[] = []
  for (let start = 0; start < count; start += 10) {
    const batch = Math.min(10, count - start)
    const created = await Promise.all(Array.from({ length: batch }, () => createUser(api, { activate: true })))
    users.push(...created.map((result) => result.user))
  }
  return users
}

async function provisioningApp() {
  const app = await createApp(api)
  await enableProvisioning(api, app.id, { deactivate: true })
  return app as { id: string }
}

describe('the percentage', () => {
  let group: { id: string }
  beforeAll(async () => {
    group = await createGroup(api)
    for (const user of await newUsers(100)) await addMember(api, group.id, user.id)
  }, 120_000)

  test('applies to an app of 100 provisioned app users: past 10% of them the deactivations are held', async () => {
    const app = await provisioningApp()
    await assignGroup(api, app.id, group.id)
    await markAllProvisioned(app.id)
    await setGuard(app.id, { maxCount: null, maxPercent: 10 })

    await unassignGroup(api, app.id, group.id)

    expect(await deactivations(app.id)).toEqual({ QUEUED: 10, HELD: 90 })
    expect(await trips(app.id)).toEqual([expect.objectContaining({ provisioned: 100, passed: 10, held: 90 })])
    const heldAppUsers = await api.database.db.prisma.appUser.count({ where: { appId: app.id, syncState: 'HELD' } })
    expect(heldAppUsers).toBe(90)
  })

  test('does not apply to an app of 99: only the count could hold, and it is off', async () => {
    const app = await provisioningApp()
    await assignGroup(api, app.id, group.id)
    const notProvisioned = await api.database.db.prisma.appUser.findFirstOrThrow({ where: { appId: app.id } })
    await markAllProvisioned(app.id, [notProvisioned.id])
    await setGuard(app.id, { maxCount: null, maxPercent: 10 })

    await unassignGroup(api, app.id, group.id)

    expect(await deactivations(app.id)).toEqual({ QUEUED: 99 })
    expect(await trips(app.id)).toEqual([])
  })
})

describe('the count', () => {
  async function appOf(size: number) {
    const app = await provisioningApp()
    const users = await newUsers(size)
    for (const user of users) await assignUser(api, app.id, user.id)
    await markAllProvisioned(app.id)
    return { app, users }
  }

  test('holds a small app past maxCount whatever the percentage says', async () => {
    const { app, users } = await appOf(4)
    await setGuard(app.id, { maxCount: 2, maxPercent: 100 })
    for (const user of users) await unassignUser(api, app.id, user.id)
    expect(await deactivations(app.id)).toEqual({ QUEUED: 2, HELD: 2 })
  })

  test('with maxCount and maxPercent null the guard is off: every deactivation is queued', async () => {
    const { app, users } = await appOf(4)
    await setGuard(app.id, { maxCount: 0 })
    await setGuard(app.id, { maxCount: null, maxPercent: null })
    for (const user of users) await unassignUser(api, app.id, user.id)
    expect(await deactivations(app.id)).toEqual({ QUEUED: 4 })
    expect(await trips(app.id)).toEqual([])
  })

  // Concurrent transactions queueing deactivations for one app must not both pass under the
  // threshold: the guard lock serializes the count and the insert per app (store/locks.ts 4b).
  ;(usingPostgres ? test : test.skip)(
    'racing unassignments never pass more than maxCount, and trip once',
    async () => {
      for (let round = 0; round < 8; round++) {
        const { app, users } = await appOf(6)
        await setGuard(app.id, { maxCount: 2 })
        const results = await Promise.all(users.map((user) => unassignUser(api, app.id, user.id)))
        expect(results.flatMap((result) => result.userErrors)).toEqual([])
        expect({ round, jobs: await deactivations(app.id) }).toEqual({ round, jobs: { QUEUED: 2, HELD: 4 } })
        expect({ round, trips: (await trips(app.id)).length }).toEqual({ round, trips: 1 })
      }
    },
    120_000,
  )
})
