// Scenario import: importAppUsers over the accounts of the minimal read-only loopback SCIM responder
// (lib/scim-accounts.mjs, its own process, the plan scenario's), with autoConfirmNewUsers: the first 100
// accounts match the 100 seeded users (login user<i>@bench.example) and are linked, the next 10,000 become
// users linked to them. Reports accounts imported per second (the mutation's wall time) and the server's peak
// RSS, against the raw rate of paging the same responder (GET /Users?startIndex=&count=200 until
// totalResults, the pages only read) from this process in the same run. Ratio: import rate / raw rate.
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { ROOT, backend, fmt, log, machineLoad, scratchDatabase, seed, startServer } from './lib/harness.mjs'
import { ERRORS, mutate, scimApp } from './lib/scim-apps.mjs'

// Knob: BENCH_IMPORT_ACCOUNTS (10000). Pages of 200, the import's own page size.
const knobs = {
  accounts: Number(process.env.BENCH_IMPORT_ACCOUNTS ?? 10_000),
  page: 200,
  rawRuns: 3,
}

const SEEDED_USERS = 100

/** The responder serving `accounts` accounts, account i with the login of seeded user i. */
async function startResponder(token, accounts, time) {
  // The plan's drift knob: no account is edited by hand here.
  const child = fork(
    path.join(ROOT, 'bench/lib/scim-accounts.mjs'),
    [token, String(accounts), time, String(accounts + 1)],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  )
  const { port } = await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`SCIM responder exited with ${code}`)))
  })
  return { baseUrl: (key) => `http://127.0.0.1:${port}/${key}/scim/v2`, token, stop: () => child.kill('SIGKILL') }
}

/** Accounts per second of reading every page and parsing it, nothing else: what an import could reach at best. */
async function rawPaging(responder) {
  const started = performance.now()
  let read = 0
  for (let start = 1; ;) {
    const response = await fetch(`${responder.baseUrl('raw')}/Users?startIndex=${start}&count=${knobs.page}`, {
      headers: { authorization: `Bearer ${responder.token}`, accept: 'application/scim+json' },
    })
    const page = await response.json()
    read += page.Resources.length
    start += page.Resources.length
    if (page.Resources.length === 0 || start > page.totalResults) break
  }
  if (read !== knobs.accounts + SEEDED_USERS) throw new Error(`raw paging read ${read} accounts`)
  return read / ((performance.now() - started) / 1000)
}

/** An ACTIVE app whose connection points at the responder's `key` prefix, importing with autoConfirmNewUsers. */
function importingApp(server, secret, responder, key) {
  return scimApp(server, secret, {
    responder,
    key,
    label: `Bench import ${key}`,
    feature: {
      name: 'INBOUND_PROVISIONING',
      capabilities: {
        importRules: {
          userCreateAndMatch: {
            exactMatchCriteria: 'USERNAME',
            allowPartialMatch: false,
            autoConfirmExactMatch: true,
            autoConfirmPartialMatch: false,
            autoConfirmNewUsers: true,
            autoActivateNewUsers: false,
          },
        },
      },
    },
  })
}

const IMPORT = `mutation($input: ImportAppUsersInput!) {
  importAppUsers(input: $input) { created matched unmatched ambiguous unchanged errors resultsTruncated ${ERRORS} }
}`

export async function run(name = 'import') {
  const target = await scratchDatabase(name)
  let responder
  let server
  try {
    const seeded = await seed(target, { users: SEEDED_USERS, groups: 1, groupsPerUser: 1 })
    const total = knobs.accounts + SEEDED_USERS
    responder = await startResponder(`bench-${randomBytes(8).toString('hex')}`, total, seeded.time)
    server = await startServer(target)
    log(`server pid ${server.pid} ready in ${fmt(server.readyMs / 1000)} s (${backend()})`)

    log(`raw paging: ${total} accounts, ${knobs.rawRuns} runs (best kept)`)
    let raw = 0
    for (let i = 0; i < knobs.rawRuns; i++) raw = Math.max(raw, await rawPaging(responder))

    // Warm-up: a dry run reads every page and decides it (JIT, pools), writing nothing.
    const appId = await importingApp(server, seeded.secret, responder, 'a')
    log('warm-up: a dry run over the same accounts')
    const dry = await mutate(server, seeded.secret, IMPORT, { appId, dryRun: true })
    if (dry.created !== knobs.accounts || dry.matched !== SEEDED_USERS)
      throw new Error(`dry run: ${JSON.stringify(dry)}`)

    const load = machineLoad(target.name)
    const rssBefore = server.rss()
    let peak = rssBefore
    const sampler = setInterval(() => (peak = Math.max(peak, server.rss())), 50)
    log(`importing ${total} accounts`)
    const started = performance.now()
    const report = await mutate(server, seeded.secret, IMPORT, { appId, dryRun: false })
    const seconds = (performance.now() - started) / 1000
    clearInterval(sampler)
    peak = Math.max(peak, server.rss())
    const note = load.note()
    if (report.created !== knobs.accounts || report.matched !== SEEDED_USERS)
      throw new Error(`imported ${JSON.stringify(report)}`)
    const rate = total / seconds

    console.log(
      `import (${backend()}, ${total} accounts, pages of ${knobs.page}, autoConfirmNewUsers): ${report.created} users created and linked, ${report.matched} seeded users matched and linked, in ${fmt(seconds, 2)} s; the dry run before it reported the same; server RSS ${fmt(rssBefore, 0)} MB before, peak ${fmt(peak, 0)} MB (+${fmt(peak - rssBefore, 0)} MB); raw paging ${fmt(raw, 0)} accounts/s; ${note}`,
    )
    console.log(
      `import: ${fmt(rate, 0)} accounts/s, peak RSS ${fmt(peak, 0)} MB (+${fmt(peak - rssBefore, 0)} MB) vs raw paging ${fmt(raw, 0)} accounts/s, ratio ${fmt(rate / raw, 3)}`,
    )
  } finally {
    if (server) await server.stop()
    responder?.stop()
    await target.drop()
  }
}
