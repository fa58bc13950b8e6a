import 'reflect-metadata'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import WebSocket from 'ws'
import type { StoredEvent } from '../../src/events/event-log'
import { delivered, SubscriberTooSlow, type StreamItem } from '../../src/events/event-stream'
import { appendBulkyEvent, BULKY_SUBSCRIPTION } from '../support/bulky-events'
import { addMember, createApp, createGroup } from '../support/directory'
import { sseClient } from '../support/event-streams'
import { startTestServer, type TestServer } from '../support/harness'
import { watch } from '../support/subscriptions'
import { createUser, lifecycle } from '../support/users'

// A subscriber that cannot keep up is ended with SUBSCRIBER_TOO_SLOW and resumeFrom, never by
// unbounded buffering; one that keeps up is never ended (api.md, Real-time). Streams are opened the
// way the subscription resolvers open them, so the test decides exactly when the subscriber reads.
const BUFFER = 5
let api: TestServer
beforeAll(async () => {
  api = await startTestServer({
    SUBSCRIPTION_BUFFER: String(BUFFER),
    // Events appended straight to the log (the last test) reach the relay by polling.
    EVENT_RELAY_POLL_MS: '20',
    // The last test selects each event's targets many times over, for results of megabytes.
    MAX_QUERY_COMPLEXITY: '1000000',
  })
})
afterAll(() => api.close())

type Stream = AsyncIterableIterator<StreamItem<'LIFECYCLE_EVENT'>>
const openStream = (after?: string): Promise<Stream> =>
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

/** The cursor the `events` query gives the event with this sequence (one of the last hundred). */
async function cursorOf(sequence: bigint): Promise<string> {
  const page = await api.gql(`{ events(last: 100) { edges { cursor node { sequence } } } }`)
  return page.data.events.edges.find((edge: any) => BigInt(edge.node.sequence) === sequence).cursor
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
  const slow = await openStream()
  // A reader that keeps up tells when every event was published to the slow one too.
  const witness = keepReading(await openStream())

  // It reads while it keeps up…
  await commitEvents(user.id, 2)
  const read = await readUntil(slow, (await lastEvent()).sequence)
  expect(read.ending).toBeNull()

  // …then stops reading while far more events than its buffer holds commit.
  await commitEvents(user.id, 4 * BUFFER)
  const end = await lastEvent()
  expect(await witness.until(end.sequence)).toBeNull()
  const { sent: late, ending } = await readUntil(slow, end.sequence)

  expect(ending).toBeInstanceOf(SubscriberTooSlow)
  const error = asSent(ending as SubscriberTooSlow)
  // It was sent less than everything, and resumeFrom is the cursor of the last event it was sent.
  const sent = [...read.sent, ...late]
  expect(sent.at(-1)!.sequence).toBeLessThan(end.sequence)
  expect(error.extensions).toEqual({ code: 'SUBSCRIBER_TOO_SLOW', resumeFrom: await cursorOf(sent.at(-1)!.sequence) })
  expect(await slow.next()).toEqual({ done: true, value: undefined })

  // Resuming from resumeFrom sends the rest: together, every event after the start, once, in order.
  const resumed = await openStream(error.extensions.resumeFrom as string)
  const rest = await readUntil(resumed, end.sequence)
  await resumed.return!()
  expect(rest.ending).toBeNull()
  expect([...sent, ...rest.sent].map((event) => event.sequence)).toEqual(await storedAfter(start.sequence))
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
  const reader = keepReading(await openStream())

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

// Over graphql-ws and SSE alike the server pulls results only as fast as the client's socket takes
// them: a client that stops reading fills the socket buffers (megabytes on loopback), then what the
// server queues for the socket (bounded), then the stream's buffer.
const LIGHT = `subscription($filter: LifecycleEventsFilter) { lifecycleEvents(filter: $filter) { sequence cursor } }`

/** One subscription's messages (`next` with its result as payload, `complete`) as they arrive. */
function inbox() {
  const messages: any[] = []
  let received = () => {}
  return {
    messages,
    add(message: any) {
      messages.push(message)
      received()
    },
    /** The first message (past or future) that matches. */
    until: (matches: (message: any) => boolean) =>
      new Promise<any>((resolve) => {
        const check = () => {
          const found = messages.find(matches)
          if (found) resolve(found)
        }
        received = check
        check()
      }),
  }
}

/** A subscriber on a raw connection, so the test can stop reading it. */
interface RawSubscriber extends Pick<ReturnType<typeof inbox>, 'messages' | 'until'> {
  /** Stops reading the socket: what the server sends stays in the socket buffers. */
  pause(): void
  resume(): void
  close(): void
}

/** A graphql-transport-ws client on a raw socket. */
async function rawWsSubscriber(query: string, variables: Record<string, unknown>): Promise<RawSubscriber> {
  const socket = new WebSocket(api.url.replace(/^http/, 'ws'), 'graphql-transport-ws')
  const received = inbox()
  socket.on('message', (data) => received.add(JSON.parse(String(data))))
  await new Promise((resolve) => socket.once('open', resolve))
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${api.adminToken}` } }))
  await received.until((message) => message.type === 'connection_ack')
  socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }))
  return { ...received, pause: () => socket.pause(), resume: () => socket.resume(), close: () => socket.close() }
}

/** A graphql-sse client (distinct connections) on a raw HTTP request; its events as graphql-ws messages. */
async function rawSseSubscriber(query: string, variables: Record<string, unknown>): Promise<RawSubscriber> {
  const request = httpRequest(`${api.url}/stream`, {
    method: 'POST',
    headers: {
      accept: 'text/event-stream',
      'content-type': 'application/json',
      authorization: `Bearer ${api.adminToken}`,
    },
  })
  request.end(JSON.stringify({ query, variables }))
  const response = await new Promise<IncomingMessage>((resolve) => request.once('response', resolve))
  expect(response.statusCode).toBe(200)
  const received = inbox()
  let unread = ''
  response.setEncoding('utf8')
  response.on('data', (text: string) => {
    // An event ends with a blank line, which may begin at the last character already read (events are megabytes).
    const from = Math.max(0, unread.length - 1)
    unread += text
    for (let end = unread.indexOf('\n\n', from); end >= 0; end = unread.indexOf('\n\n')) {
      const event = unread.slice(0, end)
      unread = unread.slice(end + 2)
      const type = /^event: (.*)$/m.exec(event)?.[1]
      const data = /^data: (.*)$/m.exec(event)?.[1]
      // Comments (`:` keep-alives) carry no event.
      if (type) received.add({ type, payload: data ? JSON.parse(data) : null })
    }
  })
  const socket = response.socket
  return { ...received, pause: () => socket.pause(), resume: () => socket.resume(), close: () => request.destroy() }
}

const transports = [
  { name: 'graphql-ws', rawSubscriber: rawWsSubscriber, client: () => api.wsClient() },
  { name: 'SSE', rawSubscriber: rawSseSubscriber, client: () => sseClient(api.url, api.adminToken) },
]

test.each(transports)(
  'over $name, a client that stops reading is sent SUBSCRIBER_TOO_SLOW; resuming from resumeFrom misses nothing',
  async ({ rawSubscriber, client }) => {
    const start = await lastEvent()
    // Both resume after the start: live before the first event commits.
    const filter = { types: ['user.lifecycle.activate'], after: start.cursor }
    const slow = await rawSubscriber(BULKY_SUBSCRIPTION, { filter })
    const witness = watch(api.wsClient(), LIGHT, { filter })
    const isEvent = (message: any) => message.type === 'next' && message.payload.data
    /** Commits one bulky event and waits until a reader that keeps up received it (it was published). */
    const append = async (index: number) => {
      await appendBulkyEvent(api.database.db, `bulky-${index}`)
      const last = await lastEvent()
      await witness.until((result) => result.data.lifecycleEvents.cursor === last.cursor)
    }

    // The slow client receives the first event, then stops reading while far more events commit,
    // one per transaction, than the socket buffers and its stream hold.
    await append(0)
    await slow.until(isEvent)
    slow.pause()
    const count = 80
    for (let index = 1; index < count; index++) await append(index)
    const end = await lastEvent()
    witness.unsubscribe()

    slow.resume()
    // It is sent what the socket buffers held, then the error (not every event: that would hang on the stream's memory).
    const ended = await slow.until(
      (message) => message.payload?.errors || message.payload?.data?.lifecycleEvents.cursor === end.cursor,
    )
    expect(ended.payload.errors).toHaveLength(1)
    await slow.until((message) => message.type === 'complete')
    slow.close()
    const error = ended.payload.errors[0]
    const sent = slow.messages.filter(isEvent).map((message) => message.payload.data.lifecycleEvents)
    expect(error.extensions).toMatchObject({ code: 'SUBSCRIBER_TOO_SLOW', resumeFrom: sent.at(-1).cursor })
    expect(sent.length).toBeLessThan(count)

    const resumed = watch(client(), LIGHT, {
      filter: { types: ['user.lifecycle.activate'], after: error.extensions.resumeFrom },
    })
    await resumed.until((result) => result.data.lifecycleEvents.cursor === end.cursor)
    resumed.unsubscribe()
    const delivered = [...sent, ...resumed.results.map((result) => result.data.lifecycleEvents)]
    expect(delivered.map((event) => BigInt(event.sequence))).toEqual(await storedAfter(start.sequence))
  },
)
