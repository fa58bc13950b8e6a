// The subscribers of bench/fanout.mjs, run as their own process (sharing no event loop with the
// server or the bench). Job over IPC: { mode: 'graphql-ws' | 'raw', url, secret?, query?, clients }.
// Replies { ready } once every client is subscribed; on { report: { key: sentAtMs } } replies with
// the deliveries and the latency percentiles (receipt minus send, on the same wall clock).
import { createClient } from 'graphql-ws'
import WebSocket from 'ws'

const now = () => performance.timeOrigin + performance.now()
/** key -> receipt times (ms); the key names the committed change a message carries. */
const receipts = new Map()
const record = (key) => {
  const at = now()
  const times = receipts.get(key)
  if (times) times.push(at)
  else receipts.set(key, [at])
}

async function graphqlWsClient(job) {
  const client = createClient({
    url: job.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${job.secret}` },
    lazy: false,
    retryAttempts: 0,
  })
  await new Promise((resolve, reject) => {
    const off = client.on('connected', () => (off(), resolve()))
    client.on('error', reject)
  })
  client.subscribe(
    { query: job.query },
    {
      next: (result) => record(result.data?.userStatusChanged?.event?.target?.id ?? 'malformed'),
      error: (error) => record(`error:${JSON.stringify(error).slice(0, 200)}`),
      complete: () => {},
    },
  )
}

async function rawClient(job) {
  const socket = new WebSocket(job.url)
  await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)))
  // Parsed like the graphql-ws client parses every message, so both sides pay for JSON.
  socket.on('message', (data) =>
    record(JSON.parse(String(data)).payload?.data?.userStatusChanged?.event?.target?.id ?? 'malformed'),
  )
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN
}

process.once('message', async (job) => {
  const open = job.mode === 'raw' ? rawClient : graphqlWsClient
  // Opened in batches so the server is not asked for 1,000 handshakes at once.
  for (let i = 0; i < job.clients; i += 50)
    await Promise.all(Array.from({ length: Math.min(50, job.clients - i) }, () => open(job)))
  process.send({ ready: true })
  process.on('message', ({ report }) => {
    const latencies = []
    let last = -Infinity
    for (const [key, sentAt] of Object.entries(report)) {
      for (const at of receipts.get(key) ?? []) {
        latencies.push(at - sentAt)
        last = Math.max(last, at)
      }
    }
    latencies.sort((a, b) => a - b)
    const unexpected = [...receipts.keys()].filter((key) => !(key in report))
    process.send({
      deliveries: latencies.length,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1),
      last,
      unexpected: unexpected.slice(0, 3),
      unexpectedCount: unexpected.length,
    })
    setImmediate(() => process.exit(0))
  })
})
