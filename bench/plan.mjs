// Scenario plan (`npm run bench -- plan`): previewProvisioning over 10,000 app users, every one linked to
// an account of a minimal read-only loopback SCIM responder (lib/scim-accounts.mjs, its own process) that
// holds the 10,000 accounts, one in ten changed by hand (so the plan has UPDATEs with changes to compute).
// Measured: one previewProvisioning asking for the counts and the first page of 200 actions (every action
// is planned whatever the page: the counts need them all), its time and the server's RSS while it runs.
// Baseline, same run: the raw rate of paging the same responder (GET /Users?startIndex=&count=200 until
// totalResults, bodies parsed) with Node's fetch from this process. Ratio: app users planned per second /
// accounts paged per second.
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import pg from 'pg'
import { PGlite } from '@electric-sql/pglite'
import {
  ROOT,
  backend,
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

// Knobs: BENCH_PLAN_USERS (10000 app users and accounts), BENCH_PLAN_RUNS (5 timed runs each, after one
// warm-up; the median is reported), BENCH_PLAN_DRIFT_EVERY (10: every 10th account differs by hand).
const knobs = {
  users: Number(process.env.BENCH_PLAN_USERS ?? 10_000),
  runs: Number(process.env.BENCH_PLAN_RUNS ?? 5),
  driftEvery: Number(process.env.BENCH_PLAN_DRIFT_EVERY ?? 10),
  pageSize: 200,
}

const PREVIEW = `query($appId: ID!) {
  previewProvisioning(appId: $appId) {
    counts { create link update deactivate reactivate unchanged orphaned }
    actions(first: 200) { edges { node { action reason appUser { id status } downstream { id active } changes { attribute from to } } } }
  }
}`

async function startResponder(token, time) {
  const child = fork(
    path.join(ROOT, 'bench/lib/scim-accounts.mjs'),
    [token, String(knobs.users), time, String(knobs.driftEvery)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  )
  const { port } = await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`SCIM responder exited with ${code}`)))
  })
  const base = `http://127.0.0.1:${port}`
  return {
    token,
    baseUrl: `${base}/plan/scim/v2`,
    counts: async () => (await fetch(`${base}/_counts`)).json(),
    stop: () => child.kill('SIGKILL'),
  }
}

/**
 * The app (connection ENABLED towards the responder, USER_PROVISIONING with create, profile and deactivate on)
 * and one PROVISIONED app user per seeded user, linked to its account: set-based SQL before the server starts
 * (an embedded database has one owner). The token is stored in clear; the server seals it when it starts.
 */
function appStatements(seeded, responder) {
  const features = {
    USER_PROVISIONING: {
      status: 'ENABLED',
      capabilities: {
        create: { lifecycleCreate: { status: 'ENABLED' } },
        update: { profile: { status: 'ENABLED' }, lifecycleDeactivate: { status: 'ENABLED' } },
      },
    },
  }
  const appId = `app_${seeded.time}bench0plan000000`
  return {
    appId,
    sql: [
      `INSERT INTO "App" (id, name, label, status, "signOnMode", "provisioningStatus", "provisioningBaseUrl",
                          "provisioningAuthScheme", "provisioningToken", features, created, "lastUpdated")
         VALUES ('${appId}', 'scim', 'Bench plan', 'ACTIVE', 'SAML_2_0', 'ENABLED', '${responder.baseUrl}', 'TOKEN',
                 '${responder.token}', '${JSON.stringify(features)}'::jsonb, now(), now())`,
      `INSERT INTO "AppUser" (id, "appId", "userId", scope, status, "syncState", "externalId", created, "lastUpdated", "statusChanged")
         SELECT 'apu_${seeded.time}' || lpad(i::text, 16, '0'), '${appId}', 'usr_${seeded.time}' || lpad(i::text, 16, '0'),
                'USER', 'PROVISIONED', 'SYNCHRONIZED', 'acc-' || i, now(), now(), now()
         FROM generate_series(0, ${knobs.users - 1}) i`,
      `ANALYZE`,
    ],
  }
}

async function execute(target, statements) {
  if (target.kind === 'embedded') {
    const db = new PGlite(target.dataDir)
    try {
      for (const sql of statements) await db.exec(sql)
    } finally {
      await db.close()
    }
    return
  }
  const client = new pg.Client({ connectionString: target.url })
  await client.connect()
  try {
    for (const sql of statements) await client.query(sql)
  } finally {
    await client.end()
  }
}

/** Every account of the responder, a page at a time, as fast as this process reads them: accounts per second. */
async function pageAll(responder) {
  const started = performance.now()
  let read = 0
  for (let startIndex = 1; ;) {
    const response = await fetch(`${responder.baseUrl}/Users?startIndex=${startIndex}&count=${knobs.pageSize}`, {
      headers: { authorization: `Bearer ${responder.token}` },
    })
    const body = await response.json()
    read += body.Resources.length
    startIndex += body.Resources.length
    if (body.Resources.length === 0 || startIndex > body.totalResults) break
  }
  if (read !== knobs.users) throw new Error(`baseline read ${read} accounts, expected ${knobs.users}`)
  return read / ((performance.now() - started) / 1000)
}

/** Peak VmRSS (MB) of a process while `work` runs, sampled every 10 ms. */
async function peakRss(pid, work) {
  let peak = rssMB(pid)
  const sampler = setInterval(() => (peak = Math.max(peak, rssMB(pid))), 10)
  try {
    const value = await work()
    return { value, peak: Math.max(peak, rssMB(pid)) }
  } finally {
    clearInterval(sampler)
  }
}

async function preview(server, secret, appId) {
  const started = performance.now()
  const { json } = await graphql(server.url, secret, PREVIEW, { appId })
  if (json.errors) throw new Error(JSON.stringify(json.errors))
  const plan = json.data.previewProvisioning
  if (plan.actions.edges.length !== Math.min(200, knobs.users)) throw new Error('the first page of actions is short')
  return { ms: performance.now() - started, counts: plan.counts }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

export async function run(name = 'plan') {
  const target = await scratchDatabase(name)
  let server
  let responder
  try {
    log(`seeding ${knobs.users} users (${backend()})`)
    const seeded = await seed(target, { users: knobs.users, groups: 1, groupsPerUser: 1 })
    responder = await startResponder(`bench-${randomBytes(8).toString('hex')}`, seeded.time)
    const { appId, sql } = appStatements(seeded, responder)
    log(`seeding ${knobs.users} app users linked to the responder's accounts (direct SQL)`)
    await execute(target, sql)
    server = await startServer(target)
    log(`server pid ${server.pid} ready in ${fmt(server.readyMs / 1000)} s`)

    const load = machineLoad(target.name)
    await pageAll(responder)
    const rawRates = []
    for (let i = 0; i < knobs.runs; i++) rawRates.push(await pageAll(responder))
    const raw = median(rawRates)

    const first = await preview(server, seeded.secret, appId) // warm-up (JIT, pools)
    const expectedUpdates = Math.ceil(knobs.users / knobs.driftEvery)
    if (first.counts.update !== expectedUpdates || first.counts.unchanged !== knobs.users - expectedUpdates)
      throw new Error(`unexpected plan: ${JSON.stringify(first.counts)}`)
    await sleep(200)
    const rssBefore = server.rss()
    const gets = (await responder.counts()).GET ?? 0
    const { value: times, peak } = await peakRss(server.pid, async () => {
      const ms = []
      for (let i = 0; i < knobs.runs; i++) ms.push((await preview(server, seeded.secret, appId)).ms)
      return ms
    })
    const answered = await responder.counts()
    const getsPerRun = ((answered.GET ?? 0) - gets) / knobs.runs
    const writes = Object.entries(answered)
      .filter(([method]) => method !== 'GET')
      .reduce((sum, [, n]) => sum + n, 0)
    const ms = median(times)
    const rate = knobs.users / (ms / 1000)
    const note = load.note()

    console.log(
      `plan (${backend()}, ${knobs.users} app users linked to ${knobs.users} accounts, ${expectedUpdates} drifted): previewProvisioning (counts + first 200 actions) median ${fmt(ms, 0)} ms of ${knobs.runs} (min ${fmt(Math.min(...times), 0)}, max ${fmt(Math.max(...times), 0)}); ${getsPerRun} GET per preview, ${writes} other requests; server RSS ${fmt(rssBefore)} MB before, peak ${fmt(peak)} MB during (+${fmt(peak - rssBefore)} MB); raw paging ${fmt(raw)} accounts/s (median of ${knobs.runs}); ${note}`,
    )
    console.log(
      `plan: ${fmt(rate)} app users planned/s, peak RSS +${fmt(peak - rssBefore)} MB, vs raw paging ${fmt(raw)} accounts/s, ratio ${fmt(rate / raw, 3)}`,
    )
  } finally {
    if (server) await server.stop()
    responder?.stop()
    await target.drop()
  }
}
