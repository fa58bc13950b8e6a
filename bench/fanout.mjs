// Scenario fanout (npm run bench -- fanout): BENCH_FANOUT_CLIENTS (1,000) graphql-ws clients, in a
// process of their own, subscribe to one filtered topic,
//   userStatusChanged(filter: { statuses: [SUSPENDED] }) { previousStatus status event { sequence type target { id } } }
// while the bench commits BENCH_FANOUT_RATE (50) mutations a second for BENCH_SECONDS over HTTP:
// suspendUser (of active users) and unsuspendUser (of users suspended beforehand) in turn, so half
// the events pass the filter and half are dropped server-side. Measured: deliveries/s, and latency from sending the mutation to each receipt (an
// upper bound of commit -> receipt: it includes the mutation's own transaction).
// Baseline, in the same run: the same clients on a bare `ws` server (its own process) that is
// handed, at the same moments, the same bytes for each suspension and sends them to every client.
// Memory: the server's RSS before subscribers, with them all idle, and after the run.
// fanout-2p (PostgreSQL only): the same with two server processes on one database, the mutations
// committed through one and the subscribers on the other, so every delivery crosses processes
// (LISTEN/NOTIFY, then the log read by the subscribers' relay); memory is the subscribers' server's.
import { fork } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import {
  ROOT,
  backend,
  env,
  fmt,
  graphql,
  log,
  machineLoad,
  rssMB,
  scratchDatabase,
  seed,
  sleep,
  startServer,
} from './lib/harness.mjs'

const CLIENTS = Number(process.env.BENCH_FANOUT_CLIENTS ?? 1000)
const RATE = Number(process.env.BENCH_FANOUT_RATE ?? 50)
const SETTLE_MS = 3000
const SUBSCRIPTION = `subscription { userStatusChanged(filter: { statuses: [SUSPENDED] }) {
  previousStatus status event { sequence type target { id } } } }`
const CREATE_ACTIVE =
  'mutation($input: CreateUserInput!) { createUser(input: $input) { user { id status } userErrors { code } } }'
const lifecycle = (name) => `mutation($id: ID!) { ${name}(input: { id: $id }) { user { status } userErrors { code } } }`
const now = () => performance.timeOrigin + performance.now()

/** The subscribers' process (bench/lib/fanout-clients.mjs): resolves once all are subscribed. */
async function subscribers(job) {
  const child = fork(path.join(ROOT, 'bench/lib/fanout-clients.mjs'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const next = () => new Promise((resolve, reject) => (child.once('message', resolve), child.once('exit', reject)))
  child.send(job)
  await next()
  return {
    pid: child.pid,
    async report(sent) {
      const reply = next()
      child.send({ report: sent })
      return reply
    },
  }
}

/** Runs `send(i)` for i < count at a steady `rate` a second; resolves when every send settled. */
async function steady(count, rate, send) {
  const started = performance.now()
  const pending = []
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / rate
    if (due > performance.now()) await sleep(due - performance.now())
    pending.push(send(i))
  }
  return Promise.all(pending)
}

async function activeUsers(url, secret, count) {
  const ids = []
  for (let i = 0; i < count; i += 10) {
    const batch = Array.from({ length: Math.min(10, count - i) }, (_, j) => {
      const login = `fanout-${i + j}-${randomUUID().slice(0, 8)}@bench.example`
      return graphql(url, secret, CREATE_ACTIVE, {
        input: { profile: { login, email: login }, credentials: { password: 'correct horse battery staple' } },
      })
    })
    for (const response of await Promise.all(batch)) {
      const user = response.json.data?.createUser?.user
      if (user?.status !== 'ACTIVE') throw new Error(`createUser: ${response.text.slice(0, 300)}`)
      ids.push(user.id)
    }
  }
  return ids
}

const summary = (label, result, expected) =>
  `${label} ${fmt(result.deliveriesPerSecond)} deliveries/s (${result.deliveries} of ${expected}), p50 ${fmt(result.p50)} ms, p99 ${fmt(result.p99)} ms, max ${fmt(result.max)} ms` +
  (result.unexpectedCount
    ? ` [${result.unexpectedCount} unexpected messages, e.g. ${result.unexpected.join('; ')}]`
    : '')

export async function run(name = 'fanout') {
  const target = await scratchDatabase(name)
  const acrossProcesses = name === 'fanout-2p'
  if (acrossProcesses && target.kind !== 'postgres') throw new Error('fanout-2p needs DATABASE_URL=postgresql://…')
  let server
  let writer
  let raw
  try {
    const seeded = await seed(target, { users: 100, groups: 5 })
    server = await startServer(target)
    // Mutations go to `writer`, subscribers to `server`: the same process unless across processes.
    writer = acrossProcesses ? await startServer(target) : server
    const mutations = Math.max(2, Math.round(RATE * env.seconds))
    const suspensions = Math.ceil(mutations / 2)
    log(`server pid ${server.pid}${acrossProcesses ? `, writer pid ${writer.pid}` : ''}; creating ${mutations} users`)
    const users = await activeUsers(writer.url, seeded.secret, suspensions)
    // Unsuspended users were suspended beforehand, so no mutation waits on another's commit.
    const suspended = await activeUsers(writer.url, seeded.secret, mutations - suspensions)
    for (const id of suspended) await graphql(writer.url, seeded.secret, lifecycle('suspendUser'), { id })
    const expected = suspensions * CLIENTS

    const rssBefore = server.rss()
    log(`${CLIENTS} graphql-ws subscribers connecting`)
    const ours = await subscribers({
      mode: 'graphql-ws',
      url: server.url,
      secret: seeded.secret,
      query: SUBSCRIPTION,
      clients: CLIENTS,
    })
    await sleep(SETTLE_MS)
    const rssIdle = server.rss()

    const load = machineLoad(target.name)
    log(`server: ${mutations} mutations at ${RATE}/s`)
    const sent = {}
    let failures = 0
    const firstSent = now()
    await steady(mutations, RATE, async (i) => {
      const id = i % 2 ? suspended[(i - 1) / 2] : users[i / 2]
      if (i % 2 === 0) sent[id] = now()
      const response = await graphql(writer.url, seeded.secret, lifecycle(i % 2 ? 'unsuspendUser' : 'suspendUser'), {
        id,
      })
      if (response.text.includes('"code"') || response.text.includes('"errors"')) failures++
    })
    await sleep(SETTLE_MS)
    const oursResult = await ours.report(sent)
    oursResult.deliveriesPerSecond = oursResult.deliveries / ((Math.max(oursResult.last, firstSent) - firstSent) / 1000)
    const rssAfter = server.rss()
    const loadNote = load.note()

    log(`baseline: bare ws server, ${CLIENTS} clients`)
    raw = fork(path.join(ROOT, 'bench/lib/raw-broadcast.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    const { port } = await new Promise((resolve) => raw.once('message', resolve))
    const rawRssBefore = rssMB(raw.pid)
    const theirs = await subscribers({ mode: 'raw', url: `ws://127.0.0.1:${port}`, clients: CLIENTS })
    await sleep(SETTLE_MS)
    const rawRssIdle = rssMB(raw.pid)
    const rawSent = {}
    const rawFirst = now()
    await steady(mutations, RATE, async (i) => {
      if (i % 2) return // the filter drops unsuspensions server-side: nothing to send
      const id = users[i / 2]
      const bytes = JSON.stringify({
        id: randomUUID(),
        type: 'next',
        payload: {
          data: {
            userStatusChanged: {
              previousStatus: 'ACTIVE',
              status: 'SUSPENDED',
              event: { sequence: String(1000 + i), type: 'user.lifecycle.suspend', target: { id } },
            },
          },
        },
      })
      rawSent[id] = now()
      raw.send({ broadcast: bytes })
    })
    await sleep(SETTLE_MS)
    const rawResult = await theirs.report(rawSent)
    rawResult.deliveriesPerSecond = rawResult.deliveries / ((Math.max(rawResult.last, rawFirst) - rawFirst) / 1000)

    const perClientKB = ((rssIdle - rssBefore) * 1024) / CLIENTS
    console.log(
      `${name} (${backend()}${acrossProcesses ? ', two server processes' : ''}, ${CLIENTS} subscribers, ${RATE} mutations/s for ${env.seconds} s, ${suspensions} pass the filter): ` +
        `${summary('server', oursResult, expected)}${failures ? ` [${failures} failed mutations]` : ''}; ${summary('raw ws', rawResult, expected)}; ${loadNote}`,
    )
    console.log(
      `${name} memory: server RSS ${fmt(rssBefore)} MB before subscribers, ${fmt(rssIdle)} MB with ${CLIENTS} idle (${fmt(perClientKB)} KB each), ${fmt(rssAfter)} MB after the run; raw ws server ${fmt(rawRssBefore)} -> ${fmt(rawRssIdle)} MB`,
    )
    console.log(
      `${name}: ${fmt(oursResult.deliveriesPerSecond)} deliveries/s vs raw ws ${fmt(rawResult.deliveriesPerSecond)} deliveries/s, p50 ${fmt(oursResult.p50)} ms, p99 ${fmt(oursResult.p99)} ms, ratio ${fmt(oursResult.deliveriesPerSecond / rawResult.deliveriesPerSecond, 3)}`,
    )
  } catch (error) {
    if (server) log(`server output:\n${server.tail.join('\n')}`)
    throw error
  } finally {
    raw?.kill()
    if (writer && writer !== server) await writer.stop()
    if (server) await server.stop()
    await target.drop()
  }
}
