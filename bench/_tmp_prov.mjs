// Scenarios provision and provision-slow (`npm run bench -- provision` runs both): the provisioning
// worker inside the real server (`npm start`) pushing assignments to a minimal loopback SCIM responder
// (lib/scim-responder.mjs, its own process).
// - provision: one assignGroupToApp puts 2,000 ACTIVE users on one app; per app user, the time from the
//   assignment's commit to PROVISIONED (AppUser.statusChanged), and app users provisioned per second
//   from that commit to the last PROVISIONED. Baseline, same run: the same POST /Users
//   requests sent with Node's fetch straight to the same responder from another process
//   (lib/scim-load.mjs), as many in flight as the engine may send to that one downstream: the per-app
//   cap (PROVISIONING_CONCURRENCY_PER_APP, 4), not the process-wide PROVISIONING_CONCURRENCY (8), which
//   a single app never gets.
// - provision-slow: app B provisions 1,000 users alone; then app A's downstream answers every request
//   after 2 s while B provisions 1,000 more. Ratio: B's rate beside the slow app / B's rate alone.
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import {
  ROOT,
  backend,
  fmt,
  graphql,
  log,
  machineLoad,
  scratchDatabase,
  seed,
  sleep,
  startServer,
} from './lib/harness.mjs'
import { ERRORS, mutate, scimApp } from './lib/scim-apps.mjs'

// Knobs: BENCH_PROVISION_USERS (2000: provision's assignments; provision-slow uses half per phase),
// BENCH_PROVISION_SLOW_MS (2000: the slow downstream's delay), BENCH_PROVISION_TIMEOUT_SECONDS (600: gives up
// on a run that stalls). The worker's own settings (PROVISIONING_CONCURRENCY …) are inherited by the server;
// the baseline sends at min(PROVISIONING_CONCURRENCY_PER_APP, PROVISIONING_CONCURRENCY) in flight.
const knobs = {
  users: Number(process.env.BENCH_PROVISION_USERS ?? 2000),
  slowMs: Number(process.env.BENCH_PROVISION_SLOW_MS ?? 2000),
  timeoutMs: Number(process.env.BENCH_PROVISION_TIMEOUT_SECONDS ?? 600) * 1000,
  concurrency: Number(process.env.PROVISIONING_CONCURRENCY ?? 8),
  perApp: Number(process.env.PROVISIONING_CONCURRENCY_PER_APP ?? 4),
  baselineWarmup: 200,
  warmUp: 50,
}
/** Requests the engine may have in flight against one downstream: the baseline's concurrency. */
const perDownstream = Math.min(knobs.perApp, knobs.concurrency)

// ---------------------------------------------------------------------------------------------
// Child processes: the responder and the baseline load.

async function startResponder(token) {
  const child = fork(path.join(ROOT, 'bench/lib/scim-responder.mjs'), [token], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const { port } = await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`SCIM responder exited with ${code}`)))
  })
  const base = `http://127.0.0.1:${port}`
  return {
    pid: child.pid,
    token,
    baseUrl: (app) => `${base}/${app}/scim/v2`,
    /** Requests answered per app: { a: { GET, POST, other } }. */
    counts: async () => (await fetch(`${base}/_counts`)).json(),
    setDelay: async (app, ms) => void (await fetch(`${base}/_delay/${app}/${ms}`, { method: 'PUT' })),
    stop: () => child.kill('SIGKILL'),
  }
}

function runScimLoad(job) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(ROOT, 'bench/lib/scim-load.mjs'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    let result
    child.on('message', (message) => (result = message))
    child.on('error', reject)
    child.on('exit', (code) => {
      if (result?.error) reject(new Error(`baseline: ${result.error}`))
      else if (!result) reject(new Error(`baseline process exited with ${code}`))
      else resolve(result)
    })
    child.send(job)
  })
}

/**
 * The raw POST rate at the engine's in-flight cap for one downstream (the ratio's denominator), and the
 * rate of the GET+POST pairs a create takes at that cap: the most one app could reach if the engine cost nothing.
 */
async function baseline(responder, app, requests) {
  const job = {
    baseUrl: responder.baseUrl(app),
    token: responder.token,
    concurrency: perDownstream,
    requests,
    warmup: knobs.baselineWarmup,
  }
  log(`baseline: ${requests} POST /Users, then GET+POST pairs, at ${perDownstream} in flight`)
  const post = await runScimLoad(job)
  const pair = await runScimLoad({ ...job, lookup: true })
  for (const run of [post, pair])
    if (run.failures) throw new Error(`baseline: ${run.failures} failed, e.g. ${run.sample}`)
  return { post, pair }
}

/** CPU seconds (user + system) a process, or one of its threads, has used so far (Linux /proc). */
function cpuSeconds(pid, thread) {
  const stat = fs.readFileSync(thread ? `/proc/${pid}/task/${thread}/stat` : `/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

// ---------------------------------------------------------------------------------------------
// Through the API.

/** An app whose SCIM connection is ENABLED towards the responder's `key` prefix, with create enabled. */
function provisioningApp(server, secret, responder, key) {
  return scimApp(server, secret, {
    responder,
    key,
    label: `Bench SCIM ${key}`,
    feature: { name: 'USER_PROVISIONING', capabilities: { create: { lifecycleCreate: { status: 'ENABLED' } } } },
  })
}

/**
 * One mutation assigns the whole group (its app users and jobs are written inside it). Returns how long
 * it took and when it committed: the wall-clock time its answer arrived, a bound just after the commit
 * (the server answers once the transaction has committed; the clock is the server's, same machine).
 */
async function assignGroup(server, secret, appId, groupId) {
  const started = performance.now()
  await mutate(
    server,
    secret,
    `mutation($input: AssignGroupToAppInput!) { assignGroupToApp(input: $input) { priority ${ERRORS} } }`,
    { appId, groupId },
  )
  return { ms: performance.now() - started, committedAt: Date.now() }
}

/** Waits until the responder answered `posts` POSTs for `key` (the server must stay up meanwhile). */
async function untilPosted(responder, key, posts, server) {
  const give = performance.now() + knobs.timeoutMs
  for (;;) {
    const counts = (await responder.counts())[key] ?? { POST: 0 }
    if (counts.POST >= posts) return
    if (performance.now() > give) throw new Error(`only ${counts.POST} of ${posts} POSTs after ${knobs.timeoutMs} ms`)
    if (await Promise.race([server.exited.then(() => true), sleep(100).then(() => false)])) {
      throw new Error(`server exited:\n${server.tail.join('\n')}`)
    }
  }
}

/** Every app user of the app (AppUser rows: created, statusChanged), once `expected` of them are PROVISIONED. */
async function appUsers(server, secret, appId, expected) {
  const give = performance.now() + knobs.timeoutMs
  for (;;) {
    const rows = []
    let after = null
    do {
      const { json } = await graphql(
        server.url,
        secret,
        `
          query ($id: ID!, $after: String) {
            app(id: $id) {
              users(first: 200, after: $after) {
                pageInfo {
                  hasNextPage
                  endCursor
                }
                edges {
                  node {
                    id
                    status
                    syncState
                    created
                    statusChanged
                  }
                }
              }
            }
          }
        `,
        { id: appId, after },
      )
      if (json.errors) throw new Error(JSON.stringify(json.errors))
      const page = json.data.app.users
      rows.push(...page.edges.map((edge) => edge.node))
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null
    } while (after)
    const provisioned = rows.filter((row) => row.status === 'PROVISIONED').length
    if (provisioned >= expected) return rows
    if (performance.now() > give) throw new Error(`only ${provisioned} of ${expected} app users PROVISIONED`)
    await sleep(100)
  }
}

/**
 * Rate from the assignment's commit to the last PROVISIONED, and per app user latency from that commit
 * to its PROVISIONED (issue 12: "from assignment commit to PROVISIONED"). Writing the assignment itself
 * (the mutation) is not the engine's work, so it is reported apart.
 */
function measure(rows, committedAt) {
  const done = rows.filter((row) => row.status === 'PROVISIONED')
  if (done.length !== rows.length) throw new Error(`${rows.length - done.length} app users not PROVISIONED`)
  const changed = done.map((row) => Date.parse(row.statusChanged))
  const first = committedAt
  const last = Math.max(...changed)
  const latencies = changed.map((at) => Math.max(0, at - committedAt)).sort((a, b) => a - b)
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]
  return {
    count: done.length,
    seconds: (last - first) / 1000,
    rate: done.length / ((last - first) / 1000),
    p50: at(0.5),
    p99: at(0.99),
  }
}

/**
 * Provisions the first knobs.warmUp seeded users to an app of its own (assignUserToApp each) and waits until
 * they are PROVISIONED, so that what is measured next runs on a warm server (JIT, pools, caches).
 */
async function warmUp(server, seeded, responder) {
  const appId = await provisioningApp(server, seeded.secret, responder, 'warm')
  log(`warm-up: ${knobs.warmUp} users on an app of their own`)
  for (let i = 0; i < knobs.warmUp; i++) {
    await mutate(
      server,
      seeded.secret,
      `mutation($input: AppUserInput!) { assignUserToApp(input: $input) { appUser { id } ${ERRORS} } }`,
      { appId, userId: `usr_${seeded.time}${String(i).padStart(16, '0')}` },
    )
  }
  await untilPosted(responder, 'warm', knobs.warmUp, server)
  await appUsers(server, seeded.secret, appId, knobs.warmUp)
}

/** The seed's group g (bench/lib/harness.mjs ids). */
const groupId = (seeded, g) => `grp_${seeded.time}${String(g).padStart(16, '0')}`

async function setUp(name, users, groups) {
  const target = await scratchDatabase(name)
  const context = { target, stop: async () => {} }
  log(`seeding ${users} users in ${groups} groups (${backend()})`)
  context.seeded = await seed(target, { users, groups, groupsPerUser: 1 })
  context.responder = await startResponder(`bench-${randomBytes(8).toString('hex')}`)
  context.stop = async () => {
    if (context.server) await context.server.stop()
    context.responder.stop()
    await target.drop()
  }
  return context
}

// ---------------------------------------------------------------------------------------------

async function provision(name) {
  const users = knobs.users
  const context = await setUp(name, users, 1)
  try {
    const { seeded, responder, target } = context
    const base = await baseline(responder, 'base', users)
    const server = (context.server = await startServer(target))
    log(`server pid ${server.pid} ready in ${fmt(server.readyMs / 1000)} s; responder pid ${responder.pid}`)
    await warmUp(server, seeded, responder)
    const appId = await provisioningApp(server, seeded.secret, responder, 'a')

    const load = machineLoad(target.name)
    const cpuBefore = cpuSeconds(server.pid)
    log(`assigning ${users} users (one assignGroupToApp)`)
    const { ms: assignMs, committedAt } = await assignGroup(server, seeded.secret, appId, groupId(seeded, 0))
    const mainAfterAssign = cpuSeconds(server.pid, server.pid)
    const allAfterAssign = cpuSeconds(server.pid)
    await untilPosted(responder, 'a', users, server)
    const mainPerUser = ((cpuSeconds(server.pid, server.pid) - mainAfterAssign) * 1000) / users
    const othersPerUser = ((cpuSeconds(server.pid) - allAfterAssign) * 1000) / users - mainPerUser
    const rows = await appUsers(server, seeded.secret, appId, users)
    const note = load.note()
    const result = measure(rows, committedAt)
    const serverCores = (cpuSeconds(server.pid) - cpuBefore) / result.seconds
    const requests = (await responder.counts()).a

    console.log(
      `provision (${backend()}, ${users} app users, PROVISIONING_CONCURRENCY ${knobs.concurrency}, per app ${knobs.perApp}): assignGroupToApp took ${fmt(assignMs, 0)} ms, all PROVISIONED ${fmt(result.seconds, 2)} s after its commit, server process used ${fmt(serverCores, 2)} cores (per app user after the commit: ${fmt(mainPerUser, 2)} ms of its main thread, ${fmt(othersPerUser, 2)} ms of its other threads); downstream answered ${requests.GET} GET + ${requests.POST} POST; baseline POST at ${perDownstream} in flight (the per-app cap) ${fmt(base.post.rps)} req/s (p50 ${fmt(base.post.p50)} ms, p99 ${fmt(base.post.p99)} ms), GET+POST pairs at ${perDownstream} in flight ${fmt(base.pair.rps)}/s (ratio ceiling ${fmt(base.pair.rps / base.post.rps, 2)}); ${note}`,
    )
    console.log(
      `provision: ${fmt(result.rate)} app users/s (p50 ${fmt(result.p50, 0)} ms, p99 ${fmt(result.p99, 0)} ms) vs raw POST ${fmt(base.post.rps)} req/s at ${perDownstream} in flight, ratio ${fmt(result.rate / base.post.rps, 3)}`,
    )
  } finally {
    await context.stop()
  }
}

async function provisionSlow(name) {
  const perPhase = Math.floor(knobs.users / 2)
  // Group 0: B alone; group 1: A (slow); group 2: B beside A.
  const context = await setUp(name, perPhase * 3, 3)
  try {
    const { seeded, responder, target } = context
    const server = (context.server = await startServer(target))
    log(`server pid ${server.pid} ready in ${fmt(server.readyMs / 1000)} s; responder pid ${responder.pid}`)
    await warmUp(server, seeded, responder)
    const appA = await provisioningApp(server, seeded.secret, responder, 'a')
    const appB = await provisioningApp(server, seeded.secret, responder, 'b')
    const load = machineLoad(target.name)

    log(`B alone: ${perPhase} users`)
    const aloneFrom = (await assignGroup(server, seeded.secret, appB, groupId(seeded, 0))).committedAt
    await untilPosted(responder, 'b', perPhase, server)
    const first = await appUsers(server, seeded.secret, appB, perPhase)
    const alone = measure(first, aloneFrom)

    log(`A slow (${knobs.slowMs} ms per answer), then B: ${perPhase} users each`)
    await responder.setDelay('a', knobs.slowMs)
    await assignGroup(server, seeded.secret, appA, groupId(seeded, 1))
    await sleep(Math.min(1000, knobs.slowMs / 2)) // A's first requests are in flight (and waiting) by now
    const besideFrom = (await assignGroup(server, seeded.secret, appB, groupId(seeded, 2))).committedAt
    await untilPosted(responder, 'b', perPhase * 2, server)
    const phaseOne = new Set(first.map((row) => row.id))
    const second = (await appUsers(server, seeded.secret, appB, perPhase * 2)).filter((row) => !phaseOne.has(row.id))
    const beside = measure(second, besideFrom)
    const note = load.note()
    const requests = await responder.counts()

    console.log(
      `provision-slow (${backend()}, ${perPhase} app users per phase, per app ${knobs.perApp} of ${knobs.concurrency}): B alone ${fmt(alone.seconds, 2)} s (p50 ${fmt(alone.p50, 0)} ms, p99 ${fmt(alone.p99, 0)} ms); beside A answering after ${knobs.slowMs} ms ${fmt(beside.seconds, 2)} s (p50 ${fmt(beside.p50, 0)} ms, p99 ${fmt(beside.p99, 0)} ms); A answered ${requests.a?.GET ?? 0} GET + ${requests.a?.POST ?? 0} POST meanwhile; ${note}`,
    )
    console.log(
      `provision-slow: healthy app ${fmt(alone.rate)}/s alone, ${fmt(beside.rate)}/s beside a slow app, ratio ${fmt(beside.rate / alone.rate, 3)}`,
    )
  } finally {
    await context.stop()
  }
}

/** `provision` runs both scenarios (each on its own fresh database); `provision-slow` runs the second alone. */
export async function run(name = 'provision') {
  if (name.startsWith('provision')) await provision('provision')
  if (name !== 'provision-only') await provisionSlow('provision-slow')
}
