import 'reflect-metadata'
import WebSocket from 'ws'
import { appendBulkyEvent, BULKY_SUBSCRIPTION } from '../support/bulky-events'
import { startTestServer, type TestServer } from '../support/harness'

// The socket glue around graphql-ws's protocol server (src/server/websocket.ts): what a client that
// misbehaves at the socket level (stops reading, vanishes mid-send, never initialises) does to the server.
let api: TestServer
beforeAll(async () => {
  api = await startTestServer({ SUBSCRIPTION_BUFFER: '5', EVENT_RELAY_POLL_MS: '20', MAX_QUERY_COMPLEXITY: '1000000' })
})
afterAll(() => api.close())

const metricsUrl = () => api.url.replace(/graphql$/, 'metrics')
async function openSubscriptions(): Promise<number> {
  const text = await (await fetch(metricsUrl(), { headers: { authorization: `Bearer ${api.adminToken}` } })).text()
  const line = text.split('\n').find((entry) => entry.startsWith('lifecycle_subscriptions_open '))
  return Number(line!.split(' ')[1])
}

async function eventually(check: () => Promise<boolean> | boolean, what: string, ms = 10_000) {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

async function rawClient(protocol: string | undefined = 'graphql-transport-ws') {
  const socket = new WebSocket(api.url.replace(/^http/, 'ws'), protocol)
  const messages: any[] = []
  socket.on('message', (data) => messages.push(JSON.parse(String(data))))
  socket.on('error', () => {})
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)))
  await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)))
  return { socket, messages, closed }
}

test.each([
  ['the client cuts its connection', (client: WebSocket) => client.terminate()],
  ['the server terminates it (as keep-alive does)', () => void api.cutWebSockets()],
])(
  'a subscription whose send waits on a client that stopped reading is ended when %s',
  async (_name, cut) => {
    const before = await openSubscriptions()
    const { socket, messages } = await rawClient()
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${api.adminToken}` } }))
    await eventually(() => messages.some((message) => message.type === 'connection_ack'), 'connection_ack')
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: BULKY_SUBSCRIPTION } }))
    await eventually(async () => (await openSubscriptions()) === before + 1, 'the subscription to start')
    socket.pause()

    // Events commit until the server has a backlog on the socket: its next send waits for a write.
    const [server] = [...api.server.webSockets]
    let index = 0
    await eventually(async () => {
      await appendBulkyEvent(api.database.db, `glue-${index++}`)
      return server.bufferedAmount >= 64 * 1024
    }, 'a backlog on the server socket')
    await appendBulkyEvent(api.database.db, `glue-${index++}`)
    await appendBulkyEvent(api.database.db, `glue-${index++}`)
    await new Promise((resolve) => setTimeout(resolve, 300))

    cut(socket)
    await eventually(() => api.server.webSockets.size === 0, 'the server socket to close')
    await eventually(async () => (await openSubscriptions()) === before, 'the subscription to be counted as ended')
  },
  30_000,
)

test('a connection that never sends connection_init is closed with 4408', async () => {
  const { closed } = await rawClient()
  expect(await closed).toBe(4408)
})
