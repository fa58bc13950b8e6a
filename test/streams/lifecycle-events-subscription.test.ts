import { nextResults, startTestServer, type TestServer } from '../support/harness'
import { watch } from '../support/subscriptions'
import { createUser, lifecycle } from '../support/users'

let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

const SUBSCRIPTION = `subscription($filter: LifecycleEventsFilter) {
  lifecycleEvents(filter: $filter) { id sequence cursor type target { id } targets { id } }
}`

const event = (result: any) => result.data.lifecycleEvents

test('a subscriber receives the events naming its targets, of its types, each with its log cursor', async () => {
  const watched = (await createUser(api)).user
  const other = (await createUser(api)).user
  const watcher = watch(api.wsClient(), SUBSCRIPTION, {
    filter: { targetIds: [watched.id], types: ['user.lifecycle.deactivate'] },
  })
  // Deactivate and activate again until a deactivation arrives: from then on the subscription is live.
  await watcher.untilDelivered(async () => {
    await lifecycle(api, 'deactivateUser', watched.id)
    await lifecycle(api, 'activateUser', watched.id)
  })
  await lifecycle(api, 'deactivateUser', other.id) // another target: filtered out
  await lifecycle(api, 'suspendUser', watched.id) // no suspension from PROVISIONED; the next one is delivered
  await lifecycle(api, 'deactivateUser', watched.id)
  const stored = await api.gql(
    `query($id: ID!) { events(filter: { targetId: $id }) { edges { cursor node { sequence type } } } }`,
    { id: watched.id },
  )
  const edge = stored.data.events.edges.at(-1)
  expect(edge.node.type).toBe('user.lifecycle.deactivate')
  const last = await watcher.until((result) => event(result).cursor === edge.cursor)
  watcher.unsubscribe()
  expect(event(last).sequence).toBe(edge.node.sequence)
  expect(watcher.results.map(event).every((item: any) => item.target.id === watched.id)).toBe(true)
  expect(new Set(watcher.results.map((result) => event(result).type))).toEqual(new Set(['user.lifecycle.deactivate']))
})

test('a subscription needs events:read', async () => {
  const token = await api.tokenWith('users:read')
  const [message] = await nextResults(api.wsClient(token), SUBSCRIPTION).done
  expect(message.errors?.[0]?.extensions?.code ?? (message as any)[0]?.extensions?.code).toBe('FORBIDDEN')
})
