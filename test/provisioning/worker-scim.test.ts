import { ephemeralBox } from '../../src/provisioning/secrets'
import { startTestServer, type TestServer } from '../support/harness'
import { startScimServer, type ScimServer } from '../support/scim-server'
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
import { watch } from '../support/subscriptions'

// The provisioning engine end to end: assignments through the API, a worker in the server's process,
// a real SCIM 2.0 server (scimmy) downstream.

let api: TestServer
let scim: ScimServer

beforeAll(async () => {
  api = await startTestServer({}, { provisioning: { pollMs: 50, random: () => 0 } })
  scim = await startScimServer()
})
afterAll(async () => {
  await api.close()
  await scim.close()
})

const downstreamUser = (userName: string) =>
  scim.users().find((user) => user.userName.toLowerCase() === userName.toLowerCase())

test('an assignment is created downstream and the app user becomes PROVISIONED with the downstream id', async () => {
  const app = await provisionedApp(api, scim)
  const user = await activeUser(api, { firstName: 'Grace', lastName: 'Hopper', department: 'Navy' })
  const staged = await assign(api, app.id, user.id)
  expect(staged.status).toBe('STAGED')

  const provisioned = await appUserWhen(api, app.id, user.id, (row) => row.status === 'PROVISIONED')
  const account = downstreamUser(user.profile.login)!
  expect(provisioned).toMatchObject({ syncState: 'SYNCHRONIZED', externalId: account.id, provisioningError: null })
  expect(account).toMatchObject({
    userName: user.profile.login,
    externalId: user.id,
    active: true,
    name: { givenName: 'Grace', familyName: 'Hopper' },
  })
})

test('an account that already exists downstream (another case) is linked, not duplicated', async () => {
  const app = await provisionedApp(api, scim)
  const user = await activeUser(api)
  const existing = await fetch(`${scim.baseUrl}/Users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${scim.token}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: user.profile.login.toUpperCase(),
      active: false,
    }),
  }).then((response) => response.json())
  await assign(api, app.id, user.id)
  const linked = await appUserWhen(api, app.id, user.id, (row) => row.status === 'PROVISIONED')
  expect(linked.externalId).toBe(existing.id)
  expect(
    scim.users().filter((account) => account.userName.toLowerCase() === user.profile.login.toLowerCase()),
  ).toHaveLength(1)
  expect(downstreamUser(user.profile.login)!.active).toBe(true)
})

test('with create disabled nothing is created or linked: ERROR "user not found downstream"', async () => {
  const app = await provisionedApp(api, scim, { create: false, profile: true, deactivate: true })
  const user = await activeUser(api)
  const before = scim.requestCount()
  await assign(api, app.id, user.id)
  const failed = await appUserWhen(api, app.id, user.id, (row) => row.syncState === 'ERROR')
  expect(failed).toMatchObject({ status: 'STAGED', externalId: null })
  expect(failed.provisioningError.summary).toBe('user not found downstream')
  expect(downstreamUser(user.profile.login)).toBeUndefined()
  expect(scim.requestCount()).toBe(before)
})

test('a connection token sealed under another SECRET_KEY fails each job of the app unsent, naming SECRET_KEY', async () => {
  const app = await provisionedApp(api, scim)
  await api.database.db.prisma.app.update({
    where: { id: app.id },
    data: { provisioningToken: ephemeralBox().seal(scim.token) },
  })
  const users = [await activeUser(api), await activeUser(api), await activeUser(api)]
  const before = scim.requestCount()
  // Paused while assigning, so that one claim takes the three jobs: each is refused, not only the first.
  await pause(api, app.id)
  for (const user of users) await assign(api, app.id, user.id)
  await resume(api, app.id)
  for (const user of users) {
    const failed = await appUserWhen(api, app.id, user.id, (row) => row.syncState === 'ERROR')
    expect(failed).toMatchObject({ status: 'STAGED', externalId: null })
    expect(failed.provisioningError.causes.join(' ')).toMatch(/SECRET_KEY is not the key that sealed it/)
  }
  expect(scim.requestCount()).toBe(before)
})

test('unassigning deactivates the same downstream account (PATCH active=false, never DELETE); reassigning re-enables it', async () => {
  const app = await provisionedApp(api, scim)
  const user = await activeUser(api)
  await assign(api, app.id, user.id)
  const provisioned = await appUserWhen(api, app.id, user.id, (row) => row.status === 'PROVISIONED')

  await unassign(api, app.id, user.id)
  await appUserWhen(api, app.id, user.id, (row) => row.status === 'DEPROVISIONED' && row.syncState === 'SYNCHRONIZED')
  expect(downstreamUser(user.profile.login)).toMatchObject({ id: provisioned.externalId, active: false })
  expect(scim.requestCount('DELETE')).toBe(0)

  await assign(api, app.id, user.id)
  const again = await appUserWhen(api, app.id, user.id, (row) => row.status === 'PROVISIONED')
  expect(again.externalId).toBe(provisioned.externalId)
  expect(downstreamUser(user.profile.login)).toMatchObject({ id: provisioned.externalId, active: true })
})

test('a profile change is pushed with PUT when update.profile is enabled', async () => {
  const app = await provisionedApp(api, scim)
  const user = await activeUser(api)
  await assign(api, app.id, user.id)
  await appUserWhen(api, app.id, user.id, (row) => row.status === 'PROVISIONED')
  const response = await api.gql(
    `mutation($input: UpdateUserInput!) { updateUser(input: $input) { userErrors { code } } }`,
    { input: { id: user.id, profile: { title: 'Rear Admiral' } } },
  )
  expect(response.data.updateUser.userErrors).toEqual([])
  await appUserWhen(api, app.id, user.id, () => downstreamUser(user.profile.login)?.title === 'Rear Admiral')
  const synced = await appUserWhen(api, app.id, user.id, (row) => row.syncState === 'SYNCHRONIZED')
  expect(synced.lastSync).not.toBeNull()
})

test('a paused app sends nothing until resumed; a queued create followed by an unassign is never sent', async () => {
  const app = await provisionedApp(api, scim)
  await pause(api, app.id)
  const kept = await activeUser(api)
  const dropped = await activeUser(api)
  await assign(api, app.id, kept.id)
  await assign(api, app.id, dropped.id)
  await unassign(api, app.id, dropped.id)
  const before = scim.requestCount()
  // A worker poll or two passes while paused: nothing may reach the downstream.
  await new Promise((resolve) => setTimeout(resolve, 300))
  expect(scim.requestCount()).toBe(before)
  expect((await appUser(api, app.id, kept.id)).status).toBe('STAGED')

  await resume(api, app.id)
  await appUserWhen(api, app.id, kept.id, (row) => row.status === 'PROVISIONED')
  expect(downstreamUser(dropped.profile.login)).toBeUndefined()
  expect(await appUser(api, app.id, dropped.id)).toMatchObject({ status: 'DEPROVISIONED', externalId: null })
})

test('appUserStatusChanged streams STAGED -> PROVISIONED through SYNCING, after commit', async () => {
  const app = await provisionedApp(api, scim)
  const user = await activeUser(api)
  const watched = watch(
    api.wsClient(),
    `subscription($filter: AppUserStatusChangedFilter) { appUserStatusChanged(filter: $filter) {
      previousStatus status previousSyncState syncState appUser { externalId } event { type data } } }`,
    { filter: { appIds: [app.id] } },
  )
  const other = await activeUser(api)
  await watched.untilDelivered(() => assign(api, app.id, other.id).catch(() => undefined))
  await assign(api, app.id, user.id)
  const pushed = await watched.until(
    (result) =>
      result.data.appUserStatusChanged.event?.type === 'application.provision.user.push' &&
      result.data.appUserStatusChanged.appUser.externalId === downstreamUser(user.profile.login)?.id,
  )
  expect(pushed.data.appUserStatusChanged).toMatchObject({
    previousStatus: 'STAGED',
    status: 'PROVISIONED',
    previousSyncState: 'SYNCING',
    syncState: 'SYNCHRONIZED',
  })
  expect(pushed.data.appUserStatusChanged.event.data).toMatchObject({ operation: 'CREATE', httpStatus: 201 })
  expect(
    watched.results.some(
      (result) =>
        result.data.appUserStatusChanged.syncState === 'SYNCING' &&
        result.data.appUserStatusChanged.status === 'STAGED',
    ),
  ).toBe(true)
  watched.unsubscribe()
})

/** Assigns `size` fresh users to a new app through one group (one commit queues every job) and waits for each to be PROVISIONED. */
async function provisionBurst(server: TestServer, size: number) {
  const app = await provisionedApp(server, scim)
  const users = await Promise.all(Array.from({ length: size }, () => activeUser(server)))
  const group = await server.gql(`mutation { createGroup(input: { name: "burst" }) { group { id } } }`)
  const groupId = group.data.createGroup.group.id
  for (const user of users) {
    await server.gql(`mutation($input: GroupMemberInput!) { addGroupMember(input: $input) { userErrors { code } } }`, {
      input: { groupId, userId: user.id },
    })
  }
  const assigned = await server.gql(
    `mutation($input: AssignGroupToAppInput!) { assignGroupToApp(input: $input) { userErrors { code } } }`,
    { input: { appId: app.id, groupId } },
  )
  expect(assigned.data.assignGroupToApp.userErrors).toEqual([])
  for (const user of users) {
    await appUserWhen(server, app.id, user.id, (row) => row.status === 'PROVISIONED', undefined, 15_000)
  }
}

test('a burst of assignments (one group assigned) is provisioned without waiting for any lease to expire', async () => {
  // A lease far longer than this test's patience: a job the worker claimed and then lost track of
  // would only run again after it, and the wait below would give up.
  const patient = await startTestServer({}, { provisioning: { pollMs: 50, leaseSeconds: 600 } })
  try {
    await provisionBurst(patient, 80)
  } finally {
    await patient.close()
  }
})

test('a burst deeper than one claim is provisioned without waiting for the poll', async () => {
  // No poll within the test: the commit's wake must lead the worker through the whole queue. With
  // one request per app in flight a claim takes a few jobs of the app; the rest must follow as
  // slots free, not at the next poll (which once drained a deep queue a claim per second).
  const sleepy = await startTestServer({}, { provisioning: { pollMs: 3_600_000, perApp: 1 } })
  try {
    await provisionBurst(sleepy, 12)
  } finally {
    await sleepy.close()
  }
})

test('a provisioning event names the app user, the app and the user, and each of them finds it', async () => {
  const app = await provisionedApp(api, scim)
  const user = await activeUser(api)
  await assign(api, app.id, user.id)
  const provisioned = await appUserWhen(api, app.id, user.id, (row) => row.status === 'PROVISIONED')
  for (const targetId of [provisioned.id, app.id, user.id]) {
    const response = await api.gql(
      `query($filter: EventFilter) { events(filter: $filter) { totalCount edges { node { targets { id type } data } } } }`,
      { filter: { targetId, types: ['application.provision.user.push'] } },
    )
    expect(response.data.events.totalCount).toBe(1)
    const [{ node }] = response.data.events.edges
    expect(node.targets).toEqual([
      { id: provisioned.id, type: 'AppUser' },
      { id: app.id, type: 'AppInstance' },
      { id: user.id, type: 'User' },
    ])
    expect(node.data).toMatchObject({ httpStatus: 201, operation: 'CREATE', externalId: provisioned.externalId })
  }
})
