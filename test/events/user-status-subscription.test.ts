import { nextResults, startTestServer, type TestServer } from '../support/harness'
import { createUser, lifecycle } from '../support/users'

let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

const SUBSCRIPTION = `subscription($filter: UserStatusChangedFilter) {
  userStatusChanged(filter: $filter) { previousStatus status user { id status } event { type sequence cursor } }
}`

/** Resolves once the server has registered the subscription (graphql-ws acknowledges before the first event). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 150))

test('a subscriber sees a user go PROVISIONED -> ACTIVE when the password is set, with the stored event', async () => {
  const { user, activationToken } = await createUser(api)
  const watcher = nextResults(api.wsClient(), SUBSCRIPTION, { filter: { userIds: [user.id] } })
  await settle()
  await api.gql(`mutation($input: SetPasswordInput!) { setPassword(input: $input) { user { id } } }`, {
    input: { token: activationToken, password: 'correct horse battery' },
  })
  const [message] = await watcher.done
  expect(message.data.userStatusChanged).toMatchObject({
    previousStatus: 'PROVISIONED',
    status: 'ACTIVE',
    user: { id: user.id, status: 'ACTIVE' },
    event: { type: 'user.account.update_password' },
  })
  const stored = await api.gql(`query($id: ID!) { events(filter: { targetId: $id }) { edges { cursor node { sequence } } } }`, { id: user.id })
  const last = stored.data.events.edges.at(-1)
  expect(message.data.userStatusChanged.event.sequence).toBe(last.node.sequence)
  expect(message.data.userStatusChanged.event.cursor).toBe(last.cursor)
})

test('filters apply server-side: other users and other statuses are not delivered', async () => {
  const watched = (await createUser(api, { password: 'correct horse battery' })).user
  const other = (await createUser(api, { password: 'correct horse battery' })).user
  const watcher = nextResults(api.wsClient(), SUBSCRIPTION, { filter: { userIds: [watched.id], statuses: ['DEPROVISIONED'] } })
  await settle()
  await lifecycle(api, 'suspendUser', watched.id) // status not in the filter
  await lifecycle(api, 'deactivateUser', other.id) // user not in the filter
  await lifecycle(api, 'deactivateUser', watched.id)
  const [message] = await watcher.done
  expect(message.data.userStatusChanged).toMatchObject({ previousStatus: 'SUSPENDED', status: 'DEPROVISIONED', user: { id: watched.id } })
})

test('a failed transition publishes nothing', async () => {
  const { user } = await createUser(api)
  const watcher = nextResults(api.wsClient(), SUBSCRIPTION, { filter: { userIds: [user.id] } })
  await settle()
  expect((await lifecycle(api, 'suspendUser', user.id)).userErrors[0].code).toBe('INVALID_TRANSITION')
  await lifecycle(api, 'deactivateUser', user.id)
  const [message] = await watcher.done
  expect(message.data.userStatusChanged).toMatchObject({ previousStatus: 'PROVISIONED', status: 'DEPROVISIONED' })
})

test('a subscription needs users:read', async () => {
  const token = await api.tokenWith('events:read')
  const watcher = nextResults(api.wsClient(token), SUBSCRIPTION)
  const [message] = await watcher.done
  expect(message.errors?.[0]?.extensions?.code ?? (message as any)[0]?.extensions?.code).toBe('FORBIDDEN')
})

test('a WebSocket with an unknown token is refused at connection', async () => {
  const watcher = nextResults(api.wsClient('not-a-token'), SUBSCRIPTION)
  await expect(watcher.done).rejects.toBeDefined()
})
