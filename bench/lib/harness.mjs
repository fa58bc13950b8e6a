// Shared plumbing for the HTTP scenarios (read, write, crash): a scratch database on either
// backend, the seed, the real server as a child process (`node dist/src/main.js start`), its RSS,
// and autocannon run in a separate process (bench/lib/load.mjs) so that the load generator never
// shares an event loop with what it measures.
import 'reflect-metadata'
import { fork, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { PGlite } from '@electric-sql/pglite'
import { openDatabase } from '../../dist/src/store/database.js'
import { TokenService } from '../../dist/src/tokens/token-service.js'
import { SCOPES } from '../../dist/src/tokens/scopes.js'
import { SYSTEM_ACTOR } from '../../dist/src/events/event-log.js'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const MAIN = path.join(ROOT, 'dist/src/main.js')

// Knobs (env): BENCH_SECONDS (measure, default 10), BENCH_WARMUP_SECONDS (3), BENCH_CONNECTIONS (20),
// BENCH_MEMORY_REQUESTS (100000: the issue's memory run), BENCH_MEMORY_SECONDS (60: a cap on that run so a
// default run stays short; 0 lifts it), BENCH_USERS (10000), BENCH_GROUPS (50), BENCH_LOG_LEVEL (warn),
// BENCH_SERVER_NODE_ARGS (node flags for the server child only, e.g. --cpu-prof --cpu-prof-dir=/tmp/prof),
// BENCH_READY_SECONDS (60: how long the server may take to answer /readyz).
export const env = {
  seconds: Number(process.env.BENCH_SECONDS ?? 10),
  warmup: Number(process.env.BENCH_WARMUP_SECONDS ?? 3),
  connections: Number(process.env.BENCH_CONNECTIONS ?? 20),
  memoryRequests: Number(process.env.BENCH_MEMORY_REQUESTS ?? 100_000),
  memorySeconds: Number(process.env.BENCH_MEMORY_SECONDS ?? 60),
  users: Number(process.env.BENCH_USERS ?? 10_000),
  groups: Number(process.env.BENCH_GROUPS ?? 50),
  groupsPerUser: 3,
  logLevel: process.env.BENCH_LOG_LEVEL ?? 'warn',
}

export const backend = () => (process.env.DATABASE_URL ? 'postgresql' : 'embedded')
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
export const log = (...args) => console.error('  ·', ...args) // progress on stderr; results on stdout

// ---------------------------------------------------------------------------------------------
// Scratch databases: a temporary PGlite data directory, or a fresh PostgreSQL database.

async function adminQuery(sql) {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await client.connect()
  try {
    return await client.query(sql)
  } finally {
    await client.end()
  }
}

/**
 * A fresh, empty database: `{ kind: 'embedded', dataDir }` (a temp directory) or
 * `{ kind: 'postgres', url, name }` (CREATE DATABASE on DATABASE_URL's server). `drop()` removes it.
 */
export async function scratchDatabase(label) {
  const suffix = randomBytes(4).toString('hex')
  if (!process.env.DATABASE_URL) {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), `lg-bench-${label}-`))
    const dirs = [base]
    return {
      kind: 'embedded',
      dataDir: path.join(base, 'server'),
      /** A copy of the data dir (taken while nothing has it open), for a second PGlite in the bench. */
      copy(name) {
        const target = path.join(base, name)
        fs.cpSync(path.join(base, 'server'), target, { recursive: true })
        return target
      },
      drop: async () => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })),
    }
  }
  const name = `lg_bench_${label.replace(/\W/g, '_')}_${suffix}`
  await adminQuery(`CREATE DATABASE "${name}"`)
  const url = new URL(process.env.DATABASE_URL)
  url.pathname = `/${name}`
  return {
    kind: 'postgres',
    url: url.toString(),
    name,
    drop: () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  }
}

// ---------------------------------------------------------------------------------------------
// Seed: set-based SQL, identical on both backends.

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
function base32(value, length) {
  let out = ''
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value & 31n)] + out
    value >>= 5n
  }
  return out
}

/**
 * Seeds `users` ACTIVE users (ids `usr_<48-bit ms time><16-digit counter>`, the shape and order of
 * newId's, all older than anything the server creates later), `groups` OKTA_GROUP groups, and
 * memberships: every user in 3 of the groups (i, i+17, i+34 mod 50: each group ~600 members)
 * plus the built-in Everyone, as the user service keeps it. Returns a description of the seed.
 */
function seedStatements({ users, groups, groupsPerUser }) {
  const time = base32(BigInt(Date.now() - 86_400_000), 10) // a day ago: older than any server-made id
  const userId = (expr) => `'usr_${time}' || lpad((${expr})::text, 16, '0')`
  const groupId = (expr) => `'grp_${time}' || lpad((${expr})::text, 16, '0')`
  const step = Math.max(1, Math.floor(groups / groupsPerUser))
  return {
    time,
    firstUserId: `usr_${time}${'0'.repeat(16)}`,
    lastUserId: `usr_${time}${String(users - 1).padStart(16, '0')}`,
    sql: [
      `INSERT INTO "Group" (id, type, name, description, created, "lastUpdated", "lastMembershipUpdated")
         SELECT ${groupId('g')}, 'OKTA_GROUP'::"GroupType", 'Bench group ' || lpad(g::text, 2, '0'), 'Seeded by the bench', now(), now(), now()
         FROM generate_series(0, ${groups - 1}) g`,
      `INSERT INTO "User" (id, status, login, email, "firstName", "lastName", department, title, "employeeNumber", custom,
                           created, activated, "statusChanged", "lastUpdated")
         SELECT ${userId('i')}, 'ACTIVE'::"UserStatus", 'user' || i || '@bench.example', 'user' || i || '@bench.example',
                'First' || i, 'Last' || i, (ARRAY['Engineering','Sales','Marketing','Finance','Support'])[1 + i % 5],
                'Title ' || (i % 7), lpad(i::text, 6, '0'), '{}'::jsonb, now(), now(), now(), now()
         FROM generate_series(0, ${users - 1}) i`,
      `INSERT INTO "GroupMembership" ("groupId", "userId", created)
         SELECT 'grp_everyone', ${userId('i')}, now() FROM generate_series(0, ${users - 1}) i`,
      `INSERT INTO "GroupMembership" ("groupId", "userId", created)
         SELECT ${groupId(`(i + k * ${step}) % ${groups}`)}, ${userId('i')}, now()
         FROM generate_series(0, ${users - 1}) i, generate_series(0, ${groupsPerUser - 1}) k`,
      `UPDATE "Group" SET "lastMembershipUpdated" = now() WHERE id = 'grp_everyone'`,
      `ANALYZE`,
    ],
  }
}

/**
 * Migrates the scratch database (the project's own migrator), seeds it, and issues the bench's
 * API token through the token service (hash stored, every scope, its event written). Closes it.
 */
export async function seed(target, options = {}) {
  const counts = { users: env.users, groups: env.groups, groupsPerUser: env.groupsPerUser, ...options }
  const started = performance.now()
  const instance = target.kind === 'embedded' ? new PGlite(target.dataDir) : null
  if (target.kind === 'embedded') fs.mkdirSync(target.dataDir, { recursive: true })
  const db = await openDatabase(
    target.kind === 'embedded' ? { kind: 'embedded', instance } : { kind: 'postgres', url: target.url, poolSize: 2 },
  )
  try {
    await db.migrate()
    const plan = seedStatements(counts)
    if (instance) {
      await instance.transaction(async (tx) => {
        for (const sql of plan.sql.slice(0, -1)) await tx.exec(sql)
      })
      await instance.exec('ANALYZE')
    } else {
      const client = new pg.Client({ connectionString: target.url })
      await client.connect()
      try {
        await client.query('BEGIN')
        for (const sql of plan.sql.slice(0, -1)) await client.query(sql)
        await client.query('COMMIT')
        await client.query('ANALYZE')
      } finally {
        await client.end()
      }
    }
    const secret = `lgw_bench_${randomBytes(24).toString('base64url')}`
    const tokens = new TokenService(db, () => {})
    const issued = await tokens.create('bench', [...SCOPES], SYSTEM_ACTOR, { secret })
    if (!issued.ok) throw new Error(`token: ${JSON.stringify(issued.errors)}`)
    return {
      ...counts,
      ...plan,
      secret,
      tokenId: issued.value.token.id,
      tokenName: issued.value.token.name,
      seconds: (performance.now() - started) / 1000,
    }
  } finally {
    await db.close()
  }
}

// ---------------------------------------------------------------------------------------------
// The server under test: the npm start code path as a child process.

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.unref()
    probe.on('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

/** VmRSS of a process in MB (Linux /proc). */
export function rssMB(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1])
  return kb / 1024
}

/**
 * Starts `node dist/src/main.js start` on the scratch database with the bench's settings
 * (RATE_LIMIT_PER_MINUTE=0, LOG_LEVEL=warn unless BENCH_LOG_LEVEL) and waits for /readyz.
 */
export async function startServer(
  target,
  { port, timeoutMs = Number(process.env.BENCH_READY_SECONDS ?? 60) * 1000, extraEnv = {} } = {},
) {
  port ??= await freePort()
  const childEnv = {
    ...process.env,
    NODE_ENV: process.env.NODE_ENV ?? 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: env.logLevel,
    ...(target.kind === 'embedded' ? { DATA_DIR: target.dataDir, DATABASE_URL: '' } : { DATABASE_URL: target.url }),
    ...extraEnv,
  }
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)
  const child = spawn(process.execPath, [...nodeArgs, MAIN, 'start'], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const tail = []
  const keep = (chunk) => {
    for (const line of String(chunk).split('\n')) if (line) tail.push(line)
    if (tail.length > 200) tail.splice(0, tail.length - 200)
  }
  child.stdout.on('data', keep) // always drained: a full pipe would block the server
  child.stderr.on('data', keep)
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  let gone = null
  exited.then((status) => (gone = status))
  const base = `http://127.0.0.1:${port}`
  const started = performance.now()
  for (;;) {
    if (gone) throw new Error(`server exited (${JSON.stringify(gone)}) before ready:\n${tail.join('\n')}`)
    try {
      const response = await fetch(`${base}/readyz`)
      if (response.ok) break
    } catch {
      // not listening yet
    }
    if (performance.now() - started > timeoutMs) {
      child.kill('SIGKILL')
      throw new Error(`server not ready after ${timeoutMs} ms:\n${tail.join('\n')}`)
    }
    await sleep(100)
  }
  return {
    pid: child.pid,
    port,
    url: `${base}/graphql`,
    base,
    readyMs: performance.now() - started,
    exited,
    tail,
    rss: () => rssMB(child.pid),
    kill: async (signal = 'SIGKILL') => {
      if (gone) return gone
      child.kill(signal)
      return exited
    },
    /** SIGTERM (graceful), SIGKILL after `graceMs`. */
    async stop(graceMs = 10_000) {
      if (gone) return gone
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      const status = await exited
      clearTimeout(timer)
      return status
    },
  }
}

/** One GraphQL request over HTTP (used for checks, not for load). */
export async function graphql(url, secret, query, variables) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
    body: JSON.stringify({ query, variables }),
  })
  const text = await response.text()
  return { status: response.status, text, json: JSON.parse(text) }
}

// ---------------------------------------------------------------------------------------------
// Load: autocannon in a child process (bench/lib/load.mjs), one run per call.

/** Runs one autocannon job (`profile` names the request set in load.mjs) in a separate process. */
export function runLoad(job) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(ROOT, 'bench/lib/load.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    let result
    child.on('message', (message) => (result = message))
    child.on('error', reject)
    child.on('exit', (code) => {
      if (result?.error) reject(new Error(`load: ${result.error}`))
      else if (code !== 0 || !result) reject(new Error(`load process exited with ${code}`))
      else resolve(result)
    })
    child.send(job)
  })
}

/** utime+stime (s), parent and title of every process, from /proc. */
function processTable() {
  const table = new Map()
  const tick = 100 // USER_HZ on Linux
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
      table.set(Number(pid), {
        ppid: Number(fields[1]),
        cpu: (Number(fields[11]) + Number(fields[12])) / tick,
        cmdline,
      })
    } catch {
      // gone meanwhile
    }
  }
  return table
}

/**
 * How much CPU other processes took while a scenario measured (2 cores here: a busy neighbour
 * skews every number). Ours: this process and its descendants, and the PostgreSQL backends of
 * our scratch database (their title names it).
 */
export function machineLoad(databaseName) {
  const before = processTable()
  const started = performance.now()
  return {
    note() {
      const after = processTable()
      const seconds = (performance.now() - started) / 1000
      const ours = (pid) => {
        for (let p = pid, hops = 0; p > 1 && hops < 50; hops++) {
          if (p === process.pid) return true
          p = after.get(p)?.ppid ?? before.get(p)?.ppid ?? 0
        }
        return Boolean(databaseName && after.get(pid)?.cmdline.includes(databaseName))
      }
      let foreign = 0
      const busiest = []
      for (const [pid, proc] of after) {
        if (ours(pid)) continue
        const used = proc.cpu - (before.get(pid)?.cpu ?? 0)
        foreign += used
        if (used / seconds > 0.05) busiest.push(`${proc.cmdline.slice(0, 40).trim()} ${fmt(used / seconds, 2)}`)
      }
      const cores = foreign / seconds
      const warn = cores > 0.2 ? ` WARNING: skewed by other processes (${busiest.slice(0, 3).join('; ')})` : ''
      return `other processes used ${fmt(cores, 2)} cores meanwhile${warn}`
    },
  }
}

export const fmt = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : String(value))

/**
 * The start of `read` and `write`: seed, keep a copy of the seeded data for the embedded
 * baseline (taken before the server touches it), start the server.
 */
export async function seededServer(target) {
  log(`seeding ${env.users} users, ${env.groups} groups (${backend()})`)
  const seeded = await seed(target)
  log(`seeded in ${fmt(seeded.seconds)} s`)
  const copyDir = target.kind === 'embedded' ? target.copy('baseline') : null
  const server = await startServer(target)
  log(`server pid ${server.pid} ready in ${fmt(server.readyMs / 1000)} s on ${server.url}`)
  return { seeded, copyDir, server }
}
