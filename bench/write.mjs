// Scenario write (npm run bench -- write): lifecycle cycles through the real server, each cycle
// createUser(activate: false) -> activateUser -> deactivateUser -> deleteUser (the user is
// DEPROVISIONED by then, so that call deletes it), every step one GraphQL request whose state
// change and event(s) commit in one transaction; 20 connections each run cycles back to back.
// Baseline: the same rows written by hand-written SQL transactions through the same driver
// (PGlite in this process on a copy of the seeded data dir, or a pg pool of the server's size on
// the same database), with the same concurrency, no HTTP.
import { randomBytes, createHash } from 'node:crypto'
import { newId } from '../dist/src/store/ids.js'
import { backend, env, fmt, machineLoad, log, scratchDatabase, seededServer, sleep } from './lib/harness.mjs'
import { measureServer, memoryLine, openBaselineDriver, problems } from './read.mjs'

const EVENT_APPEND_LOCK = 4_711_000_001 // src/events/event-log.ts
const EVERYONE = 'grp_everyone'

const INSERT_EVENT_COLUMNS =
  '"id","type","actorId","actorType","actorDisplayName","targetId","targetType","targetDisplayName","targets","data","outcomeResult"'

/** INSERT of n events ($1.. in blocks of 10), appended after the advisory lock as event-log.ts does. */
function insertEvents(n) {
  const rows = Array.from(
    { length: n },
    (_, r) => `(${Array.from({ length: 10 }, (_, c) => `$${r * 10 + c + 1}`).join(',')},'SUCCESS')`,
  )
  return `INSERT INTO "LifecycleEvent" (${INSERT_EVENT_COLUMNS}) VALUES ${rows.join(',')} RETURNING sequence`
}
const INSERT_EVENTS = [null, insertEvents(1), insertEvents(2)]

/** One cycle's four transactions, by hand. `tx(fn)` runs fn(query) in one transaction. */
export async function baselineCycle(tx, actor, n) {
  const id = newId('User')
  const login = `base-${process.pid}-${n}@bench.example`
  const firstName = 'Cycle'
  const lastName = `N${n}`
  const displayName = `${firstName} ${lastName}`
  const event = (type, data, targets = [{ id, type: 'User', displayName }]) => [
    newId('LifecycleEvent'),
    type,
    actor.id,
    'ApiToken',
    actor.name,
    id,
    'User',
    targets[0].displayName,
    JSON.stringify(targets),
    JSON.stringify(data),
  ]
  const append = async (query, events) => {
    await query(`SELECT pg_advisory_xact_lock(${EVENT_APPEND_LOCK})`)
    await query(INSERT_EVENTS[events.length], events.flat())
  }

  await tx(async (query) => {
    const now = new Date()
    await query(
      `INSERT INTO "User" (id, status, login, email, "firstName", "lastName", department, created, "lastUpdated") VALUES ($1, 'STAGED', $2, $2, $3, $4, 'Bench', $5, $5)`,
      [id, login, firstName, lastName, now],
    )
    await query(
      `INSERT INTO "GroupMembership" ("groupId", "userId", created) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [EVERYONE, id, now],
    )
    await query(`UPDATE "Group" SET "lastMembershipUpdated" = $1 WHERE id = $2`, [now, EVERYONE])
    await append(query, [
      event('user.lifecycle.create', { status: 'STAGED' }),
      event('group.user_membership.add', { groupId: EVERYONE }, [
        { id, type: 'User', displayName: login },
        { id: EVERYONE, type: 'UserGroup', displayName: 'Everyone' },
      ]),
    ])
  })
  await tx(async (query) => {
    const now = new Date()
    const token = createHash('sha256')
      .update(`act_${randomBytes(32).toString('base64url')}`)
      .digest('hex')
    await query(`DELETE FROM "OneTimeToken" WHERE "userId" = $1 AND purpose = 'ACTIVATION'`, [id])
    await query(
      `INSERT INTO "OneTimeToken" ("tokenHash", "userId", purpose, "expiresAt", created) VALUES ($1, $2, 'ACTIVATION', $3, $4)`,
      [token, id, new Date(now.getTime() + 168 * 3_600_000), now],
    )
    const updated = await query(
      `UPDATE "User" SET status = 'PROVISIONED', "lastUpdated" = $2, "statusChanged" = $2 WHERE id = $1 AND status = 'STAGED' RETURNING id`,
      [id, now],
    )
    if (updated.length !== 1) throw new Error('activate: not STAGED')
    await append(query, [event('user.lifecycle.activate', { previousStatus: 'STAGED', status: 'PROVISIONED' })])
  })
  await tx(async (query) => {
    const now = new Date()
    await query(`DELETE FROM "OneTimeToken" WHERE "userId" = $1`, [id])
    const updated = await query(
      `UPDATE "User" SET status = 'DEPROVISIONED', "passwordHash" = NULL, "failedSignIns" = 0, "lastUpdated" = $2, "statusChanged" = $2 WHERE id = $1 AND status = 'PROVISIONED' RETURNING id`,
      [id, now],
    )
    if (updated.length !== 1) throw new Error('deactivate: not PROVISIONED')
    await append(query, [
      event('user.lifecycle.deactivate', { previousStatus: 'PROVISIONED', status: 'DEPROVISIONED' }),
    ])
  })
  await tx(async (query) => {
    const deleted = await query(`DELETE FROM "User" WHERE id = $1 AND status = 'DEPROVISIONED' RETURNING id`, [id])
    if (deleted.length !== 1) throw new Error('delete: not DEPROVISIONED')
    const change = { previousStatus: 'DEPROVISIONED', status: 'DEPROVISIONED' }
    await append(query, [
      event('user.lifecycle.delete.initiated', change),
      event('user.lifecycle.delete.completed', change),
    ])
  })
}

/** A transaction runner on the baseline driver: PGlite's transaction(), or BEGIN/COMMIT on a pooled pg client. */
export function transactions(driver) {
  if (driver.instance) {
    return (fn) => driver.instance.transaction((tx) => fn(async (sql, params) => (await tx.query(sql, params)).rows))
  }
  return async (fn) => {
    const client = await driver.pool.connect()
    try {
      await client.query('BEGIN')
      const value = await fn(async (sql, params) => (await client.query(sql, params)).rows)
      await client.query('COMMIT')
      return value
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {})
      throw error
    } finally {
      client.release()
    }
  }
}

/** `connections` loops of baseline cycles for `seconds`; cycles/s over the time until every loop ends. */
async function baselineRun(tx, actor, seconds, counter) {
  const deadline = performance.now() + seconds * 1000
  let cycles = 0
  let failures = 0
  let sample
  const started = performance.now()
  await Promise.all(
    Array.from({ length: env.connections }, async () => {
      while (performance.now() < deadline) {
        try {
          await baselineCycle(tx, actor, counter.n++)
          cycles++
        } catch (error) {
          failures++
          sample ??= String(error?.message ?? error)
          await sleep(1)
        }
      }
    }),
  )
  const duration = (performance.now() - started) / 1000
  return { cycles, failures, sample, duration, cyclesPerSecond: cycles / duration }
}

export async function run(name = 'write') {
  const target = await scratchDatabase(name)
  let server
  let driver
  try {
    const started = await seededServer(target)
    const { seeded, copyDir } = started
    server = started.server

    const load = machineLoad(target.name)
    const job = { profile: 'write-cycle', url: server.url, connections: env.connections, secret: seeded.secret }
    const ourRun = await measureServer(job, server)
    const x = ourRun.measured

    driver = await openBaselineDriver(target, copyDir)
    const tx = transactions(driver)
    const actor = { id: seeded.tokenId, name: seeded.tokenName }
    const counter = { n: 0 }
    log(`baseline: warm-up ${env.warmup} s, measure ${env.seconds} s`)
    await baselineRun(tx, actor, env.warmup, counter)
    const base = await baselineRun(tx, actor, env.seconds, counter)
    const baseProblems = base.failures ? ` [${base.failures} failed cycles, e.g. ${base.sample}]` : ''

    console.log(
      `write (${backend()}, ${seeded.users} users, ${env.connections} connections, ${env.seconds} s): server ${x.cycles} cycles in ${x.requests} requests (${fmt(x.rps)} req/s, p50 ${fmt(x.p50)} ms, p99 ${fmt(x.p99)} ms)${problems(x)}, baseline ${base.cycles} cycles${baseProblems}; ${load.note()}`,
    )
    console.log(memoryLine('write', ourRun))
    console.log(
      `write: ${fmt(x.cyclesPerSecond)} cycles/s vs baseline ${fmt(base.cyclesPerSecond)} cycles/s, ratio ${fmt(x.cyclesPerSecond / base.cyclesPerSecond, 3)}`,
    )
  } finally {
    if (server) await server.stop()
    if (driver) await driver.close()
    await target.drop()
  }
}
