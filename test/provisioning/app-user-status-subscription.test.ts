import { publishAppUserChange } from '../../src/events/topics'
import { nextResults, startTestServer, type TestServer } from '../support/harness'
import { watch } from '../support/subscriptions'
import { createUser } from '../support/users'
import { assignUser, createApp, enableProvisioning, markProvisioningError, unassignUser } from '../support/directory'

// appUserStatusChanged: app-user changes after commit, filtered server-side (api.md, issue 12).
let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

const SUBSCRIPTION = `subscription($filter: AppUserStatusChangedFilter) {
  appUserStatusChanged(filter: $filter) {
    previousStatus status previousSyncState syncState
    appUser { id status syncState app { id } user { id } }
    event { type data }
  }
}`

const PASSWORD = 'correct horse battery'
const change = (result: any) => result.data.appUserStatusChanged
const newUser = async () => (await createUser(api, { password: PASSWORD })).user

async function provisioningApp() {
  const app = await createApp(api)
  await enableProvisioning(api, app.id)
  return app
}

test('an assignment is delivered with the app user as it is now and its event; an appIds filter excludes other apps', async () => {
  const watched = await provisioningApp()
  const other = await provisioningApp()
  const watcher = watch(api.wsClient(), SUBSCRIPTION, { filter: { appIds: [watched.id] } })
  // A probe user assigned and unassigned on the watched app until the subscription is live.
  const probe = await newUser()
  let assigned = false
  await watcher.untilDelivered(async () => {
    await (assigned ? unassignUser : assignUser)(api, watched.id, probe.id)
    assigned = !assigned
  })
  const user = await newUser()
  await assignUser(api, other.id, user.id) // another app: not delivered
  const { appUser } = await assignUser(api, watched.id, user.id)
  const message = await watcher.until((result) => change(result).appUser.user.id === user.id)
  watcher.unsubscribe()

  expect(change(message)).toEqual({
    previousStatus: null,
    status: 'STAGED',
    previousSyncState: null,
    syncState: 'OUT_OF_SYNC',
    appUser: {
      id: appUser.id,
      status: 'STAGED',
      syncState: 'OUT_OF_SYNC',
      app: { id: watched.id },
      user: { id: user.id },
    },
    event: {
      type: 'application.user_membership.add',
      data: expect.objectContaining({ appUserId: appUser.id, appId: watched.id, userId: user.id }),
    },
  })
  expect(watcher.results.map(change).filter((item: any) => item.appUser.app.id !== watched.id)).toEqual([])
  expect(watcher.results.map(change).filter((item: any) => item.appUser.user.id === user.id)).toHaveLength(1)
})

test('userIds, statuses and syncStates filter server-side; a retry shows its previous state', async () => {
  const app = await provisioningApp()
  const user = await newUser()
  const bystander = await newUser()
  const { appUser } = await assignUser(api, app.id, user.id)
  await assignUser(api, app.id, bystander.id)
  const watcher = watch(api.wsClient(), SUBSCRIPTION, {
    filter: { appIds: [app.id], userIds: [user.id], statuses: ['STAGED'], syncStates: ['OUT_OF_SYNC'] },
  })
  // Retrying the watched app user from ERROR is the probe: each retry is delivered (STAGED, OUT_OF_SYNC).
  const retry = (userId: string) =>
    api.gql(`mutation($input: RetryProvisioningInput!) { retryProvisioning(input: $input) { userErrors { code } } }`, {
      input: { appId: app.id, userId },
    })
  const first = await watcher.untilDelivered(async () => {
    await markProvisioningError(api, appUser.id)
    await retry(user.id)
  })
  expect(change(first)).toMatchObject({ previousStatus: 'STAGED', previousSyncState: 'ERROR', status: 'STAGED' })
  const deliveredSoFar = watcher.results.length

  await retry(bystander.id) // another user: not delivered
  await unassignUser(api, app.id, user.id) // DEPROVISIONED: not delivered
  await assignUser(api, app.id, user.id) // STAGED, OUT_OF_SYNC again: delivered, and everything before it was filtered
  await watcher.until((result) => watcher.results.indexOf(result) >= deliveredSoFar)
  watcher.unsubscribe()
  expect(
    watcher.results.slice(deliveredSoFar).map((result) => {
      const { previousStatus, status, syncState, event } = change(result)
      return { previousStatus, status, syncState, type: event.type }
    }),
  ).toEqual([
    {
      previousStatus: 'DEPROVISIONED',
      status: 'STAGED',
      syncState: 'OUT_OF_SYNC',
      type: 'application.user_membership.add',
    },
  ])
})

test('a change published without an event (a job starting) is delivered with event null', async () => {
  const app = await provisioningApp()
  const user = await newUser()
  const { appUser } = await assignUser(api, app.id, user.id)
  const watcher = watch(api.wsClient(), SUBSCRIPTION, { filter: { appIds: [app.id], syncStates: ['SYNCING'] } })
  const delivered = await watcher.untilDelivered(async () =>
    publishAppUserChange(api.server.pubSub, {
      appUserId: appUser.id,
      appId: app.id,
      userId: user.id,
      previousStatus: 'STAGED',
      status: 'STAGED',
      previousSyncState: 'OUT_OF_SYNC',
      syncState: 'SYNCING',
    }),
  )
  watcher.unsubscribe()
  expect(change(delivered)).toMatchObject({ previousSyncState: 'OUT_OF_SYNC', syncState: 'SYNCING', event: null })
  expect(change(delivered).appUser.id).toBe(appUser.id)
})

test('a subscription needs apps:read', async () => {
  const token = await api.tokenWith('users:read', 'events:read')
  const watcher = nextResults(api.wsClient(token), SUBSCRIPTION)
  const [message] = await watcher.done
  expect(message.errors?.[0]?.extensions?.code ?? (message as any)[0]?.extensions?.code).toBe('FORBIDDEN')
})
