// App.users(filter: { status syncState }): the lists (and totalCounts) a dashboard reads to count app
// users per sync state and to list provisioning errors.
import { startTestServer, type TestServer } from '../support/harness'
import { startScimServer, type ScimServer } from '../support/scim-server'
import { activeUser, appUserWhen, assign, provisionedApp } from '../support/provisioning'

let api: TestServer
let scim: ScimServer
let synced: { id: string }
let failing: { id: string }
const syncedUsers: string[] = []
let failedUser: string

beforeAll(async () => {
  api = await startTestServer({}, { provisioning: { pollMs: 50, random: () => 0 } })
  scim = await startScimServer()
  synced = await provisionedApp(api, scim)
  failing = await provisionedApp(api, scim, { create: false, profile: true, deactivate: true })
  for (let i = 0; i < 3; i++) {
    const user = await activeUser(api)
    await assign(api, synced.id, user.id)
    syncedUsers.push(user.id)
  }
  failedUser = (await activeUser(api)).id
  await assign(api, failing.id, failedUser)
  for (const userId of syncedUsers) await appUserWhen(api, synced.id, userId, (row) => row.syncState === 'SYNCHRONIZED')
  await appUserWhen(api, failing.id, failedUser, (row) => row.syncState === 'ERROR')
})
afterAll(async () => {
  await api.close()
  await scim.close()
})

async function appUsers(appId: string, filter: Record<string, unknown> | null, page = '') {
  const response = await api.gql(
    `query($id: ID!, $filter: AppUserFilter) { app(id: $id) { users(filter: $filter ${page}) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { syncState status user { id } } } } } }`,
    { id: appId, filter },
  )
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  return response.data.app.users
}

test('counts and lists only the app users in the asked sync states', async () => {
  expect((await appUsers(synced.id, { syncState: ['SYNCHRONIZED'] })).totalCount).toBe(3)
  expect((await appUsers(synced.id, { syncState: ['ERROR'] })).totalCount).toBe(0)
  const errors = await appUsers(failing.id, { syncState: ['ERROR'] })
  expect(errors.totalCount).toBe(1)
  expect(errors.edges.map((edge: any) => edge.node)).toEqual([
    { syncState: 'ERROR', status: 'STAGED', user: { id: failedUser } },
  ])
  expect((await appUsers(failing.id, { syncState: ['ERROR', 'SYNCHRONIZED'] })).totalCount).toBe(1)
})

test('status and syncState combine (both must hold); an empty or absent filter lists every app user', async () => {
  expect((await appUsers(failing.id, { status: ['STAGED'], syncState: ['ERROR'] })).totalCount).toBe(1)
  expect((await appUsers(failing.id, { status: ['PROVISIONED'], syncState: ['ERROR'] })).totalCount).toBe(0)
  expect((await appUsers(synced.id, { status: ['PROVISIONED'] })).totalCount).toBe(3)
  expect((await appUsers(synced.id, { status: [], syncState: [] })).totalCount).toBe(3)
  expect((await appUsers(synced.id, null)).totalCount).toBe(3)
})

test('a filtered list pages like any other', async () => {
  const first = await appUsers(synced.id, { syncState: ['SYNCHRONIZED'] }, ', first: 2')
  expect(first.edges).toHaveLength(2)
  expect(first.pageInfo.hasNextPage).toBe(true)
  const rest = await appUsers(
    synced.id,
    { syncState: ['SYNCHRONIZED'] },
    `, first: 2, after: "${first.pageInfo.endCursor}"`,
  )
  expect(rest.edges).toHaveLength(1)
  expect(rest.pageInfo.hasNextPage).toBe(false)
  const seen = [...first.edges, ...rest.edges].map((edge: any) => edge.node.user.id)
  expect(seen.sort()).toEqual([...syncedUsers].sort())
})

test('every app in a list is counted with its own filters in one request', async () => {
  const response = await api.gql(`{ apps(first: 10) { edges { node { id
    errors: users(filter: { syncState: [ERROR] }, first: 0) { totalCount }
    synchronized: users(filter: { syncState: [SYNCHRONIZED] }, first: 0) { totalCount } } } } }`)
  const byId = new Map(response.data.apps.edges.map((edge: any) => [edge.node.id, edge.node]))
  expect(byId.get(synced.id)).toEqual({ id: synced.id, errors: { totalCount: 0 }, synchronized: { totalCount: 3 } })
  expect(byId.get(failing.id)).toEqual({ id: failing.id, errors: { totalCount: 1 }, synchronized: { totalCount: 0 } })
})

test('an unknown sync state is BAD_USER_INPUT, not an internal error', async () => {
  const response = await api.gql(`{ apps { edges { node { users(filter: { syncState: [BOGUS] }) { totalCount } } } } }`)
  expect(response.status).toBe(400)
  expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT')
})
