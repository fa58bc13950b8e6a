// Scenario crash (PostgreSQL only: DATABASE_URL=... npm run bench -- crash): concurrent lifecycle
// mutations through the real server while the server process is killed with SIGKILL at random
// moments and restarted on the same database (no repair in between). Afterwards every
// acknowledged mutation is checked against the database: its state and exactly one set of its
// events must be there ("lost" otherwise), and no user's stored status may lack the event that
// put it there ("orphaned").
//
// Knobs: BENCH_CRASH_KILLS (default 4), BENCH_CRASH_CLIENTS (10), BENCH_CRASH_MIN_MS / _MAX_MS
// (random delay before each kill, default 1000..4000 ms after the server is ready again).
import pg from 'pg'
import { backend, env, fmt, log, scratchDatabase, seed, sleep, startServer } from './lib/harness.mjs'

const KILLS = Number(process.env.BENCH_CRASH_KILLS ?? 4)
const CLIENTS = Number(process.env.BENCH_CRASH_CLIENTS ?? 10)
const MIN_MS = Number(process.env.BENCH_CRASH_MIN_MS ?? 1000)
const MAX_MS = Number(process.env.BENCH_CRASH_MAX_MS ?? 4000)

const CREATE_USER =
  'mutation($input: CreateUserInput!) { createUser(input: $input) { user { id status } userErrors { code message field } } }'
const mutation = (name, extra = '') =>
  `mutation($id: ID!) { ${name}(input: { id: $id }) { ${extra} user { id status } userErrors { code message } } }`

/** What each operation sends, the events it writes (in one transaction), and the status it leaves. */
const OPS = {
  create: { field: 'createUser', events: ['user.lifecycle.create', 'group.user_membership.add'], result: 'STAGED' },
  activate: {
    field: 'activateUser',
    query: mutation('activateUser'),
    events: ['user.lifecycle.activate'],
    result: 'PROVISIONED',
  },
  deactivate: {
    field: 'deactivateUser',
    query: mutation('deactivateUser'),
    events: ['user.lifecycle.deactivate'],
    result: 'DEPROVISIONED',
  },
  suspend: {
    field: 'suspendUser',
    query: mutation('suspendUser'),
    events: ['user.lifecycle.suspend'],
    result: 'SUSPENDED',
  },
  unsuspend: {
    field: 'unsuspendUser',
    query: mutation('unsuspendUser'),
    events: ['user.lifecycle.unsuspend'],
    result: 'ACTIVE',
  },
  // First call on a live user: deactivates. Second call (DEPROVISIONED): deletes.
  deleteFirst: {
    field: 'deleteUser',
    query: mutation('deleteUser', 'deletedUserId'),
    events: ['user.lifecycle.deactivate'],
    result: 'DEPROVISIONED',
  },
  deleteFinal: {
    field: 'deleteUser',
    query: mutation('deleteUser', 'deletedUserId'),
    events: ['user.lifecycle.delete.initiated', 'user.lifecycle.delete.completed'],
    result: 'DELETED',
  },
}
// A new user walks (a random prefix of) this path; a seeded ACTIVE user is suspended and unsuspended.
const NEW_USER_PATH = ['create', 'activate', 'deactivate', 'activate', 'deleteFirst', 'deleteFinal']
const SEEDED_PATH = ['suspend', 'unsuspend', 'suspend', 'unsuspend']

const randomInt = (min, max) => min + Math.floor(Math.random() * (max - min + 1))

/** The shared state of the run: whether the server is up (clients hold back while it restarts). */
function gate() {
  let open = false
  let waiters = []
  return {
    get open() {
      return open
    },
    set(value) {
      open = value
      if (open) {
        waiters.forEach((resolve) => resolve())
        waiters = []
      }
    },
    wait: () => (open ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
  }
}

/**
 * One client: works through subjects (users it alone touches), one mutation at a time. Any
 * request without a valid response leaves that mutation unacknowledged (it may or may not have
 * committed) and the client moves on to a fresh subject.
 */
async function client(index, ctx) {
  let made = 0
  let seededNext = index
  while (!ctx.stopping) {
    const isNew = Math.random() < 0.7 || seededNext >= ctx.seeded.users
    let subject
    if (isNew) {
      const n = made++
      const login = `crash-${index}-${n}@bench.example`
      subject = {
        key: login,
        id: null,
        login,
        displayName: `Crash c${index}n${n}`,
        seeded: false,
        initial: null,
        ops: [],
      }
    } else {
      const i = seededNext
      seededNext += CLIENTS
      subject = {
        key: `seeded-${i}`,
        id: `usr_${ctx.seeded.time}${String(i).padStart(16, '0')}`,
        seeded: true,
        initial: 'ACTIVE',
        ops: [],
      }
    }
    ctx.subjects.push(subject)
    const path = (isNew ? NEW_USER_PATH : SEEDED_PATH).slice(
      0,
      randomInt(1, isNew ? NEW_USER_PATH.length : SEEDED_PATH.length),
    )
    for (const name of path) {
      if (ctx.stopping) break
      await ctx.up.wait()
      const op = OPS[name]
      const record = { name, acked: false, refused: false, epoch: ctx.epoch }
      subject.ops.push(record)
      ctx.sent++
      const body =
        name === 'create'
          ? {
              query: CREATE_USER,
              variables: {
                input: {
                  activate: false,
                  profile: {
                    login: subject.login,
                    email: subject.login,
                    firstName: 'Crash',
                    lastName: subject.displayName.slice(6),
                  },
                },
              },
            }
          : { query: op.query, variables: { id: subject.id } }
      let payload
      try {
        const response = await fetch(ctx.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.seeded.secret}` },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(20_000),
        })
        const json = response.status === 200 ? await response.json() : null
        payload = json?.data?.[op.field]
      } catch (error) {
        record.error = String(error?.cause?.code ?? error?.message ?? error)
      }
      if (!payload) break // no acknowledgement: abandon this subject
      if (payload.userErrors?.length) {
        // A refusal is an acknowledged no-op; the subject's state is then not ours to predict.
        record.acked = true
        record.refused = payload.userErrors.map((error) => error.code).join(',')
        ctx.refusals.push(`${name} on ${subject.key}: ${JSON.stringify(payload.userErrors)}`)
        break
      }
      const status =
        name === 'deleteFinal' ? (payload.deletedUserId === subject.id ? 'DELETED' : null) : payload.user?.status
      if (status !== op.result) {
        record.acked = true
        record.refused = `unexpected ${status}`
        ctx.refusals.push(`${name} on ${subject.key}: got ${JSON.stringify(payload)}`)
        break
      }
      if (name === 'create') subject.id = payload.user.id
      record.acked = true
      ctx.ackedByEpoch[ctx.epoch] = (ctx.ackedByEpoch[ctx.epoch] ?? 0) + 1
    }
  }
}

const sameMultiset = (a, b) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n')

/** Checks every subject and every user row against the event log. */
async function verify(url, ctx) {
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  try {
    // Subjects whose create was not acknowledged: find them by their unique login, if they exist.
    const unknown = ctx.subjects.filter((subject) => !subject.id)
    if (unknown.length) {
      const { rows } = await db.query('SELECT id, login FROM "User" WHERE login = ANY($1)', [
        unknown.map((subject) => subject.login),
      ])
      const byLogin = new Map(rows.map((row) => [row.login, row.id]))
      for (const subject of unknown) subject.id = byLogin.get(subject.login) ?? null
      const stillUnknown = unknown.filter((subject) => !subject.id)
      const created = await db.query(
        `SELECT "targetId", "targetDisplayName" FROM "LifecycleEvent" WHERE type = 'user.lifecycle.create' AND "targetDisplayName" = ANY($1)`,
        [stillUnknown.map((subject) => subject.displayName)],
      )
      const byName = new Map(created.rows.map((row) => [row.targetDisplayName, row.targetId]))
      for (const subject of stillUnknown) subject.id = byName.get(subject.displayName) ?? null
    }

    const users = new Map(
      (await db.query('SELECT id, status::text AS status FROM "User"')).rows.map((row) => [row.id, row.status]),
    )
    const events = new Map()
    const eventRows = await db.query(
      `SELECT "targetId", type, data, sequence FROM "LifecycleEvent" WHERE "targetType" = 'User' ORDER BY sequence`,
    )
    for (const row of eventRows.rows) {
      if (!events.has(row.targetId)) events.set(row.targetId, [])
      events.get(row.targetId).push(row)
    }

    const result = {
      acked: 0,
      lost: 0,
      lostEvents: 0,
      lostState: 0,
      unexpectedEvents: 0,
      unackedCommitted: 0,
      unacked: 0,
      refused: 0,
      details: [],
    }
    for (const subject of ctx.subjects) {
      const acked = subject.ops.filter((op) => op.acked && !op.refused)
      const trailing = subject.ops.find((op) => !op.acked) ?? null
      result.acked += acked.length
      result.refused += subject.ops.filter((op) => op.refused).length
      if (trailing) result.unacked++
      const actual = subject.id ? (events.get(subject.id) ?? []).map((row) => row.type) : []
      // Walk the event log: each acknowledged mutation's events, once, in order.
      let p = 0
      let lostHere = 0
      for (const op of acked) {
        const expected = OPS[op.name].events
        if (sameMultiset(actual.slice(p, p + expected.length), expected)) p += expected.length
        else {
          lostHere++
          result.lostEvents++
          result.details.push(
            `lost events: ${op.name} on ${subject.key} (${subject.id}); log has ${JSON.stringify(actual)}`,
          )
        }
      }
      const rest = actual.slice(p)
      let committedTrailing = false
      if (rest.length && trailing && sameMultiset(rest, OPS[trailing.name].events)) {
        committedTrailing = true
        result.unackedCommitted++
      } else if (rest.length) {
        result.unexpectedEvents += rest.length
        result.details.push(`unexpected events on ${subject.key} (${subject.id}): ${JSON.stringify(rest)}`)
      }
      // The stored state must be the last committed mutation's result (GONE: no row).
      const lastCommitted = committedTrailing ? trailing : acked.at(-1)
      const gone = (status) => (status === 'DELETED' || status == null ? 'GONE' : status)
      const expectedStatus = gone(lastCommitted ? OPS[lastCommitted.name].result : subject.initial)
      const stored = subject.id && users.has(subject.id) ? users.get(subject.id) : 'GONE'
      if (stored !== expectedStatus) {
        if (!lostHere && acked.length) {
          lostHere++
          result.lostState++
        }
        result.details.push(
          `state: ${subject.key} (${subject.id}) is ${stored}, expected ${expectedStatus} after ${subject.ops.map((op) => `${op.name}${op.acked ? '' : '?'}`).join(' > ')}`,
        )
      }
      result.lost += lostHere
    }

    // Orphans, over the whole database: a stored status that the user's events do not explain.
    const seededIds = (id) => id.startsWith(`usr_${ctx.seeded.time}`)
    const orphan = { state: 0, chain: 0, deletion: 0 }
    for (const [id, status] of users) {
      const statusEvents = (events.get(id) ?? []).filter((row) => row.data && typeof row.data.status === 'string')
      const implied = statusEvents.at(-1)?.data.status ?? (seededIds(id) ? 'ACTIVE' : null)
      if (implied !== status) {
        orphan.state++
        result.details.push(`orphaned state: ${id} is ${status}, its events say ${implied}`)
      }
      let previous = seededIds(id) ? 'ACTIVE' : null
      for (const row of statusEvents) {
        if (row.type === 'user.lifecycle.create') previous = null
        if ((row.data.previousStatus ?? null) !== previous) {
          orphan.chain++
          result.details.push(
            `orphaned change: ${id} went ${previous} -> ${row.data.previousStatus} without an event (before ${row.type} #${row.sequence})`,
          )
        }
        previous = row.data.status
      }
    }
    for (const [id, rows] of events) {
      if (!users.has(id) && rows.at(-1)?.type !== 'user.lifecycle.delete.completed' && id.startsWith('usr_')) {
        orphan.deletion++
        result.details.push(`orphaned deletion: ${id} is gone, its last event is ${rows.at(-1)?.type}`)
      }
    }
    result.orphan = orphan
    result.orphaned = orphan.state + orphan.chain + orphan.deletion
    return result
  } finally {
    await db.end()
  }
}

/**
 * BENCH_CRASH_SELFTEST=1: proves the check is not vacuous by breaking the database before it
 * runs: one acknowledged mutation loses its event (expect 1 lost, and its status becomes an
 * orphan) and one untouched seeded user changes status without an event (expect 1 more orphan).
 */
async function sabotage(url, ctx) {
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  try {
    const victim = ctx.subjects.find(
      (subject) => subject.seeded && subject.ops.length && subject.ops.every((op) => op.acked && !op.refused),
    )
    const { rowCount } = await db.query(
      'DELETE FROM "LifecycleEvent" WHERE sequence = (SELECT max(sequence) FROM "LifecycleEvent" WHERE "targetId" = $1)',
      [victim.id],
    )
    const untouched = `usr_${ctx.seeded.time}${String(ctx.seeded.users - 1).padStart(16, '0')}`
    await db.query(`UPDATE "User" SET status = 'SUSPENDED' WHERE id = $1`, [untouched])
    console.log(
      `crash self-test: deleted ${rowCount} event of ${victim.key} (${victim.ops.map((op) => op.name).join(' > ')}), suspended ${untouched} without an event`,
    )
  } finally {
    await db.end()
  }
}

export async function run(name = 'crash') {
  if (!process.env.DATABASE_URL) {
    console.error(
      'crash: needs PostgreSQL. Run it as DATABASE_URL=postgresql://user@host:5432/db npm run bench -- crash (it creates and drops a scratch database there).',
    )
    process.exit(1)
  }
  const target = await scratchDatabase(name)
  let server
  try {
    log(`seeding ${env.users} users, ${env.groups} groups (${backend()})`)
    const seeded = await seed(target)
    server = await startServer(target)
    log(`server pid ${server.pid} ready in ${fmt(server.readyMs / 1000)} s`)
    const ctx = {
      url: server.url,
      seeded,
      subjects: [],
      refusals: [],
      up: gate(),
      stopping: false,
      sent: 0,
      epoch: 0,
      ackedByEpoch: {},
    }
    ctx.up.set(true)
    const clients = Array.from({ length: CLIENTS }, (_, i) => client(i, ctx))

    const restarts = []
    for (let kill = 1; kill <= KILLS; kill++) {
      await sleep(randomInt(MIN_MS, MAX_MS))
      const inFlight = ctx.sent
      ctx.up.set(false) // new requests wait; those in flight meet the kill
      const status = await server.kill('SIGKILL')
      log(`kill ${kill}: SIGKILL pid ${server.pid} (${JSON.stringify(status)}) after ${inFlight} mutations sent`)
      ctx.epoch = kill
      server = await startServer(target, { port: server.port })
      restarts.push(server.readyMs / 1000)
      log(`restarted: pid ${server.pid} ready in ${fmt(server.readyMs / 1000)} s`)
      ctx.up.set(true)
    }
    await sleep(2000) // the last restart must serve too
    ctx.stopping = true
    await Promise.all(clients)
    const servedAfter = Array.from({ length: KILLS }, (_, i) => ctx.ackedByEpoch[i + 1] ?? 0)
    await server.stop()
    server = null

    if (process.env.BENCH_CRASH_SELFTEST === '1') await sabotage(target.url, ctx)
    const r = await verify(target.url, ctx)
    const servesAgain = servedAfter.every((n) => n > 0)
    console.log(
      `crash (${backend()}, ${CLIENTS} clients, ${KILLS} SIGKILLs): restarts ready in ${restarts.map((s) => fmt(s)).join(', ')} s; acknowledged after each restart: ${servedAfter.join(', ')} (${servesAgain ? 'served again every time' : 'DID NOT SERVE after a restart'})`,
    )
    console.log(
      `crash detail: ${ctx.sent} mutations sent, ${r.acked} acknowledged, ${r.unacked} unacknowledged (${r.unackedCommitted} of them committed, the rest rolled back), ${r.refused} refused; lost: ${r.lostEvents} without their events, ${r.lostState} without their state; orphaned: ${r.orphan.state} statuses without their event, ${r.orphan.chain} status-chain gaps, ${r.orphan.deletion} deletions without their event; ${r.unexpectedEvents} unexpected events`,
    )
    for (const line of [...r.details, ...ctx.refusals].slice(0, 20)) console.log(`  ${line}`)
    console.log(`crash: ${r.acked} acknowledged, ${r.lost} lost, ${r.orphaned} orphaned`)
  } finally {
    if (server) await server.stop()
    await target.drop()
  }
}
