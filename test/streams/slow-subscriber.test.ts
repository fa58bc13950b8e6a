import 'reflect-metadata'
import type { StoredEvent } from '../../src/events/event-log'
import { delivered, SubscriberTooSlow, type StreamItem } from '../../src/events/event-stream'
import { addMember, createApp, createGroup } from '../support/directory'
import { startTestServer, type TestServer } from '../support/harness'
import { createUser, lifecycle } from '../support/users'

// A subscriber that cannot keep up is ended with SUBSCRIBER_TOO_SLOW and resumeFrom, never by
// unbounded buffering; one that keeps up is never ended (api.md, Real-time). Streams are opened the
// way the subscription resolvers open them, so the test decides exactly when the subscriber reads.
const BUFFER = 5
let api: TestServer
beforeAll(async () => {
  api = await startTestServer({ SUBSCRIPTION_BUFFER: String(BUFFER) })
})
afterAll(() => api.close())

type Stream = AsyncIterableIterator<StreamItem<'LIFECYCLE_EVENT'>>
const openStream = (after?: string): Stream =>
  api.server.streams.open({ topic: 'LIFECYCLE_EVENT', matches: () => true, after })

/** The sequences the log holds after a sequence, ascending. */
async function storedAfter(sequence: bigint): Promise<bigint[]> {
  const rows = await api.database.db.prisma.lifecycleEvent.findMany({
    where: { sequence: { gt: sequence } },
    orderBy: { sequence: 'asc' },
    select: { sequence: true },
  })
  return rows.map((row) => row.sequence)
}

/** The last event of the log and the cursor the `events` query gives it. */
async function lastEvent(): Promise<{ sequence: bigint; cursor: string }> {
  const page = await api.gql(`{ events(last: 1) { edges { cursor node { sequence } } } }`)
  const [edge] = page.data.events.edges
  return { sequence: BigInt(edge.node.sequence), cursor: edge.cursor }
}

/** Everything a stream sends, read as fast as it comes, and how it ended. */
function keepReading(stream: Stream) {
  const sent: StoredEvent[] = []
  let ending: SubscriberTooSlow | 'done' | null = null
  let progressed = () => {}
  void (async () => {
    while (!ending) {
      const { value, done } = await stream.next()
      if (done) ending = 'done'
      else if (value instanceof SubscriberTooSlow) ending = value
      else sent.push(value)
      progressed()
    }
  })()
  return {
    sent,
    /** Once the event with this sequence was sent, or the stream ended. */
    until: (sequence: bigint) =>
      new Promise<SubscriberTooSlow | 'done' | null>((resolve) => {
        const check = () => {
          if (ending || sent.some((event) => event.sequence >= sequence)) resolve(ending)
        }
        progressed = check
        check()
      }),
  }
}

/** Reads a stream that is not being read until it sends the event with this sequence or ends. */
async function readUntil(stream: Stream, sequence: bigint) {
  const sent: StoredEvent[] = []
  for (;;) {
    const { value, done } = await stream.next()
    if (done) return { sent, ending: 'done' as const }
    if (value instanceof SubscriberTooSlow) return { sent, ending: value }
    sent.push(value)
    if (value.sequence >= sequence) return { sent, ending: null }
  }
}

/** Commits lifecycle changes of one user, one event each. */
async function commitEvents(userId: string, count: number): Promise<void> {
  for (let change = 0; change < count; change++)
    await lifecycle(api, change % 2 === 0 ? 'suspendUser' : 'unsuspendUser', userId)
}

/** The GraphQL error a subscription resolver turns the ending into. */
function asSent(ending: SubscriberTooSlow) {
  try {
    delivered(ending)
  } catch (error) {
    return error as { extensions: Record<string, unknown> }
  }
  throw new Error('the ending was delivered as an event')
}

test('a subscriber that stops reading is ended with SUBSCRIBER_TOO_SLOW and resumeFrom; resuming misses nothing', async () => {
  const user = (await createUser(api, { password: 'correct horse battery' })).user
  const start = await lastEvent()
  const slow = openStream()
  // A reader that keeps up tells when every event was published to the slow one too.
  const witness = keepReading(openStream())

  // It reads while it keeps up…
  await commitEvents(user.id, 2)
  const read = await readUntil(slow, (await lastEvent()).sequence)
  expect(read.ending).toBeNull()
  const lastRead = await lastEvent()

  // …then stops reading while far more events than its buffer holds commit.
  await commitEvents(user.id, 4 * BUFFER)
  const end = await lastEvent()
  expect(await witness.until(end.sequence)).toBeNull()
  const { sent: late, ending } = await readUntil(slow, end.sequence)

  expect(ending).toBeInstanceOf(SubscriberTooSlow)
  const error = asSent(ending as SubscriberTooSlow)
  expect(error.extensions).toEqual({ code: 'SUBSCRIBER_TOO_SLOW', resumeFrom: lastRead.cursor })
  expect(late).toEqual([]) // what was buffered was dropped, not sent after the reader stopped
  expect(await slow.next()).toEqual({ done: true, value: undefined })

  // Resuming from resumeFrom sends the rest: together, every event after the start, once, in order.
  const resumed = openStream(error.extensions.resumeFrom as string)
  const rest = await readUntil(resumed, end.sequence)
  await resumed.return!()
  expect(rest.ending).toBeNull()
  expect([...read.sent, ...rest.sent].map((event) => event.sequence)).toEqual(await storedAfter(start.sequence))
  expect(witness.sent.map((event) => event.sequence)).toEqual(await storedAfter(start.sequence))
})

test('a subscriber that keeps reading is never ended, even by one commit of many more events than its buffer', async () => {
  const members = 4 * BUFFER
  const [app, group] = [await createApp(api), await createGroup(api)]
  for (let member = 0; member < members; member++) {
    const user = (await createUser(api, { password: 'correct horse battery' })).user
    await addMember(api, group.id, user.id)
  }
  const start = await lastEvent()
  const reader = keepReading(openStream())

  const response = await api.gql(
    `mutation($input: AssignGroupToAppInput!) { assignGroupToApp(input: $input) { userErrors { code } } }`,
    { input: { appId: app.id, groupId: group.id } },
  )
  expect(response.data.assignGroupToApp.userErrors).toEqual([])
  const end = await lastEvent()
  // One commit (the assignment and an app user per member) of more events than the buffer holds, twice over.
  expect(end.sequence - start.sequence).toBeGreaterThan(2 * BUFFER + 1)

  expect(await reader.until(end.sequence)).toBeNull()
  expect(reader.sent.map((event) => event.sequence)).toEqual(await storedAfter(start.sequence))
})
