import { nextResults, startTestServer, type TestServer } from '../support/harness'
import { watch } from '../support/subscriptions'
import { createUser, lifecycle } from '../support/users'

let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

const SUBSCRIPTION = `subscription($filter: UserStatusChangedFilter) {
  userStatusChanged(filter: $filter) { previousStatus status user { id status } event { type sequence cursor } }
}`

const PASSWORD = 'correct horse battery'

/** An ACTIVE user whose suspend/unsuspend round trips serve as probe events (ACTIVE -> SUSPENDED -> ACTIVE). */
async function suspendingProbe() {
  const probe = (await createUser(api, { password: PASSWORD })).user
  return {
    id: probe.id,
    async run() {
      await lifecycle(api, 'suspendUser', probe.id)
      await lifecycle(api, 'unsuspendUser', probe.id)
    },
  }
}

const change = (result: any) => result.data.userStatusChanged
const changesOf = (results: any[], userId: string) => results.map(change).filter((item: any) => item.user.id === userId)

test('a subscriber sees a user go PROVISIONED -> ACTIVE when the password is set, with the stored event', async () => {
  const { user, activationToken } = await createUser(api)
  const probe = await suspendingProbe()
  const watcher = watch(api.wsClient(), SUBSCRIPTION, { filter: { userIds: [user.id, probe.id] } })
  await watcher.untilDelivered(probe.run)
  await api.gql(`mutation($input: SetPasswordInput!) { setPassword(input: $input) { user { id } } }`, {
    input: { token: activationToken, password: PASSWORD },
  })
  const message = await watcher.until((result) => change(result).user.id === user.id)
  watcher.unsubscribe()
  expect(message.data.userStatusChanged).toMatchObject({
    previousStatus: 'PROVISIONED',
    status: 'ACTIVE',
    user: { id: user.id, status: 'ACTIVE' },
    event: { type: 'user.account.update_password' },
  })
  const stored = await api.gql(
    `query($id: ID!) { events(filter: { targetId: $id }) { edges { cursor node { sequence } } } }`,
    { id: user.id },
  )
  const last = stored.data.events.edges.at(-1)
  expect(message.data.userStatusChanged.event.sequence).toBe(last.node.sequence)
  expect(message.data.userStatusChanged.event.cursor).toBe(last.cursor)
})

test('filters apply server-side: other users and other statuses are not delivered', async () => {
  const watched = (await createUser(api, { password: PASSWORD })).user
  const other = (await createUser(api, { password: PASSWORD })).user
  const probe = (await createUser(api, { password: PASSWORD })).user
  const watcher = watch(api.wsClient(), SUBSCRIPTION, {
    filter: { userIds: [watched.id, probe.id], statuses: ['DEPROVISIONED'] },
  })
  // The probe goes to DEPROVISIONED (delivered) and back through PROVISIONED (filtered out) until the subscription is live.
  let probeDeactivated = false
  await watcher.untilDelivered(async () => {
    if (probeDeactivated) await lifecycle(api, 'activateUser', probe.id)
    await lifecycle(api, 'deactivateUser', probe.id)
    probeDeactivated = true
  })
  await lifecycle(api, 'suspendUser', watched.id) // status not in the filter
  await lifecycle(api, 'deactivateUser', other.id) // user not in the filter
  await lifecycle(api, 'deactivateUser', watched.id) // delivered: everything before it has been filtered by now
  await watcher.until((result) => change(result).user.id === watched.id)
  watcher.unsubscribe()
  const probeChanges = changesOf(watcher.results, probe.id)
  expect(new Set(probeChanges.map((item: any) => item.status))).toEqual(new Set(['DEPROVISIONED']))
  expect(watcher.results.map(change).filter((item: any) => item.user.id !== probe.id)).toEqual([
    expect.objectContaining({
      previousStatus: 'SUSPENDED',
      status: 'DEPROVISIONED',
      user: { id: watched.id, status: 'DEPROVISIONED' },
    }),
  ])
})

test('a failed transition publishes nothing', async () => {
  const { user } = await createUser(api)
  const probe = await suspendingProbe()
  const watcher = watch(api.wsClient(), SUBSCRIPTION, { filter: { userIds: [user.id, probe.id] } })
  await watcher.untilDelivered(probe.run)
  expect((await lifecycle(api, 'suspendUser', user.id)).userErrors[0].code).toBe('INVALID_TRANSITION')
  await lifecycle(api, 'deactivateUser', user.id)
  await watcher.until((result) => change(result).user.id === user.id)
  watcher.unsubscribe()
  expect(changesOf(watcher.results, user.id)).toEqual([
    expect.objectContaining({ previousStatus: 'PROVISIONED', status: 'DEPROVISIONED' }),
  ])
})

test('a subscription needs users:read', async () => {
  const token = await api.tokenWith('events:read')
  const watcher = nextResults(api.wsClient(token), SUBSCRIPTION)
  const [message] = await watcher.done
  expect(message.errors?.[0]?.extensions?.code ?? (message as any)[0]?.extensions?.code).toBe('FORBIDDEN')
})

test('a WebSocket with an unknown token gets UNAUTHENTICATED for its operations, as over HTTP', async () => {
  const watcher = nextResults(api.wsClient('not-a-token'), SUBSCRIPTION)
  await expect(watcher.done).rejects.toEqual([expect.objectContaining({ extensions: { code: 'UNAUTHENTICATED' } })])
})

test('each delivered change reads the user as it is at that change, not as the first change found it', async () => {
  const probe = await suspendingProbe()
  const watcher = watch(api.wsClient(), SUBSCRIPTION, { filter: { userIds: [probe.id] } })
  await watcher.untilDelivered(probe.run)
  const before = watcher.results.length
  await lifecycle(api, 'suspendUser', probe.id)
  await watcher.until((result) => watcher.results.indexOf(result) >= before && change(result).status === 'SUSPENDED')
  await lifecycle(api, 'unsuspendUser', probe.id)
  const back = await watcher.until(
    (result) => watcher.results.indexOf(result) > before && change(result).status === 'ACTIVE',
  )
  watcher.unsubscribe()
  expect(change(back).user.status).toBe('ACTIVE')
  const suspended = watcher.results.slice(before).find((result) => change(result).status === 'SUSPENDED')
  expect(change(suspended).user.status).toBe('SUSPENDED')
})
