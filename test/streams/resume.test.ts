import { startTestServer, type TestServer } from '../support/harness'
import { sseClient } from '../support/event-streams'
import { watch } from '../support/subscriptions'
import { createUser, lifecycle } from '../support/users'

// filter.after: every stored event after the cursor, then live ones, no gap and no repeat (api.md, Subscriptions).
let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

const EVENTS = `subscription($filter: LifecycleEventsFilter) { lifecycleEvents(filter: $filter) { sequence cursor type } }`
const STATUS = `subscription($filter: UserStatusChangedFilter) {
  userStatusChanged(filter: $filter) { status event { sequence cursor } }
}`

/** The sequences the log holds after a sequence, ascending. */
async function storedAfter(sequence: number): Promise<number[]> {
  const rows = await api.database.db.prisma.lifecycleEvent.findMany({
    where: { sequence: { gt: BigInt(sequence) } },
    orderBy: { sequence: 'asc' },
    select: { sequence: true },
  })
  return rows.map((row) => Number(row.sequence))
}

async function lastEvent(): Promise<{ sequence: number; cursor: string }> {
  const page = await api.gql(`{ events(last: 1) { edges { cursor node { sequence } } } }`)
  const [edge] = page.data.events.edges
  return { sequence: edge.node.sequence, cursor: edge.cursor }
}

test('a subscriber resuming after a cursor receives every stored event after it, then live ones, once each', async () => {
  const users = [(await createUser(api)).user, (await createUser(api)).user]
  const resumePoint = await lastEvent()
  for (const user of users) await lifecycle(api, 'deactivateUser', user.id) // stored before the subscription
  const watcher = watch(api.wsClient(), EVENTS, { filter: { after: resumePoint.cursor } })
  for (const user of users) await lifecycle(api, 'activateUser', user.id) // committed during or after the replay
  const end = await lastEvent()
  await watcher.until((result) => result.data.lifecycleEvents.cursor === end.cursor)
  watcher.unsubscribe()
  const received = watcher.results.map((result) => result.data.lifecycleEvents.sequence)
  expect(received).toEqual(await storedAfter(resumePoint.sequence))
  expect(watcher.results.map((result) => result.data.lifecycleEvents.type)).toEqual(
    expect.arrayContaining(['user.lifecycle.deactivate', 'user.lifecycle.activate']),
  )
})

test('userStatusChanged resumes after a cursor with the stored changes of its filter', async () => {
  const user = (await createUser(api)).user
  const resumePoint = await lastEvent()
  await lifecycle(api, 'deactivateUser', user.id)
  await lifecycle(api, 'activateUser', user.id)
  const watcher = watch(api.wsClient(), STATUS, { filter: { userIds: [user.id], after: resumePoint.cursor } })
  const activated = await watcher.until((result) => result.data.userStatusChanged.status === 'PROVISIONED')
  watcher.unsubscribe()
  expect(watcher.results.map((result) => result.data.userStatusChanged.status)).toEqual([
    'DEPROVISIONED',
    'PROVISIONED',
  ])
  expect(activated.data.userStatusChanged.event.sequence).toBeGreaterThan(resumePoint.sequence)
})

test('a cursor the log did not issue is BAD_USER_INPUT', async () => {
  const watcher = watch(api.wsClient(), EVENTS, { filter: { after: 'bm90LWEtY3Vyc29y' } })
  const [result] = await watcher.ended
  expect(result.errors).toEqual([
    expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: ['filter', 'after'] } }),
  ])
})

test('a well-formed cursor past the end of the log was never issued: BAD_USER_INPUT, on the stream and on events', async () => {
  const end = await lastEvent()
  const past = Buffer.from(`event:${end.sequence + 100000}`).toString('base64url')
  const watcher = watch(api.wsClient(), EVENTS, { filter: { after: past } })
  const [result] = await watcher.ended
  expect(result.errors).toEqual([
    expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: ['filter', 'after'] } }),
  ])
  for (const [query, field] of [
    [`{ events(first: 3, after: "${past}") { totalCount } }`, ['after']],
    [`{ events(last: 3, before: "${past}") { totalCount } }`, ['before']],
    [`{ events(filter: { after: "${past}" }) { totalCount } }`, ['filter', 'after']],
  ] as const) {
    const response = await api.gql(query)
    expect(response.errors?.map((error) => error.extensions)).toEqual([{ code: 'BAD_USER_INPUT', field }])
  }
  // The cursor of the last event is still a resume point: nothing after it yet, then live events.
  const live = watch(api.wsClient(), EVENTS, { filter: { after: end.cursor } })
  await live.untilDelivered(() => createUser(api))
  live.unsubscribe()
  expect(live.results[0].data.lifecycleEvents.sequence).toBeGreaterThan(end.sequence)
})

test.each([
  ['lifecycleEvents', EVENTS, { types: Array.from({ length: 101 }, (_, i) => `user.type.${i}`) }, ['filter', 'types']],
  ['userStatusChanged', STATUS, { userIds: Array.from({ length: 101 }, (_, i) => `usr_${i}`) }, ['filter', 'userIds']],
])(
  '%s with a filter list of 101 items is refused with BAD_USER_INPUT, over WebSocket and SSE',
  async (_name, query, filter, field) => {
    for (const client of [api.wsClient(), sseClient(api.url, api.adminToken)]) {
      const watcher = watch(client, query, { filter })
      const [result] = await watcher.ended.then(
        (results) => results,
        (error) => [error],
      )
      const errors = result.errors ?? result
      expect(errors).toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field } })])
    }
  },
)

test('while 8 writers commit, a resuming subscriber receives exactly the committed events after its cursor, in order', async () => {
  const writers = await Promise.all(Array.from({ length: 8 }, async () => (await createUser(api)).user))
  for (let round = 0; round < 3; round++) {
    const resumePoint = await lastEvent()
    let watcher: ReturnType<typeof watch<any>> | undefined
    // Each writer flips its user's status; the subscriber resumes after the first few commits, mid-stream.
    await Promise.all(
      writers.map(async (user, index) => {
        for (let step = 0; step < 6; step++) {
          await lifecycle(api, step % 2 === 0 ? 'deactivateUser' : 'activateUser', user.id)
          if (index === 0 && step === 1)
            watcher = watch(api.wsClient(), EVENTS, { filter: { after: resumePoint.cursor } })
        }
      }),
    )
    const end = await lastEvent()
    await watcher!.until((result) => result.data.lifecycleEvents.cursor === end.cursor)
    watcher!.unsubscribe()
    const received = watcher!.results.map((result) => result.data.lifecycleEvents.sequence)
    expect(received).toEqual(await storedAfter(resumePoint.sequence))
    expect(received.length).toBe(48)
  }
})
