// Scenario read (npm run bench -- read): `users(first: 50)` with profiles and 5 groups per user,
// through the real server (child process, real HTTP, real API token) under 20 concurrent
// connections, against a bare node:http handler in this process that answers the same request
// with the same JSON, built from the same SQL statements issued by hand through the same driver
// (pg, or PGlite). Embedded by default; PostgreSQL in a scratch database when DATABASE_URL is set.
import http from 'node:http'
import { createHash } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import pg from 'pg'
import { PGlite } from '@electric-sql/pglite'
import { backend, env, fmt, machineLoad, graphql, log, runLoad, scratchDatabase, seededServer } from './lib/harness.mjs'

export const READ_QUERY =
  '{ users(first: 50) { totalCount edges { cursor node { id status profile { login email firstName lastName department } groups(first: 5) { edges { node { id name } } } } } } }'

// The statements the server sends for READ_QUERY (captured with openDatabase's onQuery hook),
// issued here verbatim: token lookup (at most every TOKEN_CACHE_SECONDS, as the server caches it),
// the page (size + 1 rows), the count, the windowed groups. Re-capture them if the server's change.
const TOKEN_SQL =
  'SELECT "public"."ApiToken"."id", "public"."ApiToken"."name", "public"."ApiToken"."tokenHash", "public"."ApiToken"."scopes", "public"."ApiToken"."created", "public"."ApiToken"."revokedAt" FROM "public"."ApiToken" WHERE ("public"."ApiToken"."tokenHash" = $1 AND 1=1) LIMIT $2 OFFSET $3'
const USERS_SQL =
  'SELECT "public"."User"."id", "public"."User"."status"::text, "public"."User"."transitioningToStatus"::text, "public"."User"."login", "public"."User"."email", "public"."User"."firstName", "public"."User"."lastName", "public"."User"."displayName", "public"."User"."department", "public"."User"."title", "public"."User"."employeeNumber", "public"."User"."managerId", "public"."User"."mobilePhone", "public"."User"."custom", "public"."User"."passwordHash", "public"."User"."failedSignIns", "public"."User"."created", "public"."User"."activated", "public"."User"."statusChanged", "public"."User"."lastLogin", "public"."User"."lastUpdated", "public"."User"."passwordChanged" FROM "public"."User" WHERE "public"."User"."status" <> CAST($1::text AS "public"."UserStatus") ORDER BY "public"."User"."id" ASC LIMIT $2 OFFSET $3'
// users' totalCount: the counters' sum (src/store/counters.ts) over every status but DEPROVISIONED.
const COUNT_SQL = `SELECT parent, sum(delta)::bigint AS total, count(*)::bigint AS rows FROM "CounterDelta"
  WHERE counter = $1 AND parent = ANY($2::text[]) AND ($3::text[] IS NULL OR value = ANY($3::text[]))
  GROUP BY parent`
const LISTED_STATUSES = ['STAGED', 'PROVISIONED', 'ACTIVE', 'RECOVERY', 'PASSWORD_EXPIRED', 'LOCKED_OUT', 'SUSPENDED']
const groupsSql = (n) =>
  `SELECT * FROM (SELECT q.*, row_number() OVER (PARTITION BY q."parentId" ORDER BY q."pageKey") AS "pageRow" FROM (SELECT g.*, m."userId" AS "parentId", g.id AS "pageKey" FROM "GroupMembership" m JOIN "Group" g ON g.id = m."groupId"
          WHERE m."userId" IN (${Array.from({ length: n }, (_, i) => `$${i + 1}`).join(',')}) ) q) ranked
            WHERE "pageRow" <= $${n + 1} ORDER BY "parentId", "pageKey"`

const PAGE = 50
const GROUP_PAGE = 5
const cursor = (tag, key) => Buffer.from(`${tag}:${key}`).toString('base64url') // connection.ts encodeCursor

/** The baseline: a bare node:http handler answering READ_QUERY from hand-issued SQL. */
export function baselineHandler(query) {
  // Like the server's TokenService: a resolved token is trusted for TOKEN_CACHE_SECONDS (default 5).
  const cacheMs = Number(process.env.TOKEN_CACHE_SECONDS ?? 5) * 1000
  const tokens = new Map()
  const resolveToken = async (secret) => {
    const hash = createHash('sha256').update(secret).digest('hex')
    const cached = tokens.get(hash)
    if (cached && cached.until > Date.now()) return cached.token
    const [token] = await query(TOKEN_SQL, [hash, 1, 0])
    if (cacheMs > 0) tokens.set(hash, { token, until: Date.now() + cacheMs })
    return token
  }
  return async (req, res) => {
    try {
      const chunks = []
      for await (const chunk of req) chunks.push(chunk)
      const request = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      if (typeof request.query !== 'string') throw new Error('no query')
      const secret = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]
      const token = secret ? await resolveToken(secret) : null
      if (!token || token.revokedAt || !token.scopes.includes('users:read') || !token.scopes.includes('groups:read')) {
        res.writeHead(401, { 'content-type': 'application/json' })
        return void res.end('{"errors":[{"message":"unauthenticated"}]}')
      }
      const rows = await query(USERS_SQL, ['DEPROVISIONED', PAGE + 1, 0])
      const page = rows.slice(0, PAGE)
      const ids = page.map((row) => row.id)
      const [[count], groupRows] = await Promise.all([
        query(COUNT_SQL, ['user.status', [''], LISTED_STATUSES]),
        ids.length ? query(groupsSql(ids.length), [...ids, GROUP_PAGE + 1]) : [],
      ])
      const groupsOf = new Map(ids.map((id) => [id, []]))
      for (const row of groupRows) groupsOf.get(row.parentId)?.push(row)
      const body = JSON.stringify({
        data: {
          users: {
            totalCount: Number(count?.total ?? 0),
            edges: page.map((user) => ({
              cursor: cursor('user', user.id),
              node: {
                id: user.id,
                status: user.status,
                profile: {
                  login: user.login,
                  email: user.email,
                  firstName: user.firstName,
                  lastName: user.lastName,
                  department: user.department,
                },
                groups: {
                  edges: groupsOf
                    .get(user.id)
                    .slice(0, GROUP_PAGE)
                    .map((group) => ({ node: { id: group.id, name: group.name } })),
                },
              },
            })),
          },
        },
      })
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      })
      res.end(body)
    } catch (error) {
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ errors: [{ message: String(error?.message ?? error) }] }))
    }
  }
}

/** The same driver the server uses: a PGlite of its own (a copy of the seeded dir), or a pg pool of the server's size. */
export async function openBaselineDriver(target, copyDir) {
  if (target.kind === 'embedded') {
    const instance = new PGlite(copyDir)
    await instance.waitReady
    return {
      query: async (sql, params) => (await instance.query(sql, params)).rows,
      instance,
      close: () => instance.close(),
    }
  }
  const pool = new pg.Pool({ connectionString: target.url, max: Number(process.env.DATABASE_POOL_SIZE ?? 10) })
  // pool.end() resolves before the sockets are gone; DROP DATABASE ... WITH (FORCE) may still hit an idle one.
  pool.on('error', () => {})
  return { query: async (sql, params) => (await pool.query(sql, params)).rows, pool, close: () => pool.end() }
}

export function listen(handler) {
  return new Promise((resolve) => {
    const server = http.createServer(handler)
    server.keepAliveTimeout = 60_000
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/graphql` }))
  })
}

/**
 * Warm-up, RSS, measured run, then a top-up run so that the server has answered
 * BENCH_MEMORY_REQUESTS requests since the warm-up (capped at about BENCH_MEMORY_SECONDS at the
 * measured rate; the memory line says how many were served), then RSS again.
 */
export async function measureServer(job, server, { memory = true } = {}) {
  log(`warm-up ${env.warmup} s`)
  await runLoad({ ...job, duration: env.warmup, loginPrefix: 'warmup' })
  const rssWarm = server.rss()
  log(`measure ${env.seconds} s`)
  const measured = await runLoad({ ...job, duration: env.seconds, loginPrefix: 'measure' })
  let served = measured.requests
  let capped = false
  if (memory && env.memoryRequests > served) {
    let more = env.memoryRequests - served
    const affordable = env.memorySeconds > 0 ? Math.ceil(measured.rps * env.memorySeconds) : Infinity
    if (affordable < more) {
      capped = true
      more = affordable
    }
    log(
      `memory run: ${more} more requests (~${fmt(more / measured.rps / 60)} min)${capped ? `, capped by BENCH_MEMORY_SECONDS=${env.memorySeconds}` : ''}`,
    )
    const topUp = await runLoad({ ...job, amount: more, loginPrefix: 'memory' })
    served += topUp.requests
  }
  return { measured, rssWarm, rssEnd: server.rss(), served, capped }
}

export function problems(result) {
  const failed = Object.values(result.failures ?? {}).reduce((a, b) => a + b, 0)
  const bad = result.errors + result.non2xx + result.mismatches + failed
  return bad
    ? ` [${result.errors} errors, ${result.non2xx} non-2xx, ${result.mismatches} bad bodies, failures ${JSON.stringify(result.failures ?? {})}; e.g. ${JSON.stringify(result.samples?.[0] ?? '')}]`
    : ''
}

export function memoryLine(name, run) {
  const ratio = run.rssEnd / run.rssWarm
  const note = run.capped
    ? ` (not the full ${env.memoryRequests}: capped at ~${env.memorySeconds} s; BENCH_MEMORY_SECONDS=0 runs them all)`
    : ''
  return `${name} memory: server rss after warm-up ${fmt(run.rssWarm)} MB, at end of ${run.served} requests${note} ${fmt(run.rssEnd)} MB, ratio ${fmt(ratio, 2)} (${ratio <= 1.5 ? 'within' : 'OVER'} 1.5x)`
}

export async function run(name = 'read') {
  const target = await scratchDatabase(name)
  let server
  let baseline
  let driver
  try {
    const started = await seededServer(target)
    const { seeded, copyDir } = started
    server = started.server
    driver = await openBaselineDriver(target, copyDir)
    baseline = await listen(baselineHandler(driver.query))

    // The baseline must say exactly what the server says.
    const ours = await graphql(server.url, seeded.secret, READ_QUERY)
    const theirs = await graphql(baseline.url, seeded.secret, READ_QUERY)
    if (ours.status !== 200 || ours.json.errors || !isDeepStrictEqual(ours.json, theirs.json)) {
      throw new Error(
        `baseline response differs from the server's:\nserver   ${ours.text.slice(0, 600)}\nbaseline ${theirs.text.slice(0, 600)}`,
      )
    }
    const edges = ours.json.data.users.edges
    log(
      `responses equal: ${ours.text.length} bytes, totalCount ${ours.json.data.users.totalCount}, ${edges.length} users x ${edges[0].node.groups.edges.length} groups`,
    )

    const load = machineLoad(target.name)
    const job = {
      profile: 'post',
      connections: env.connections,
      secret: seeded.secret,
      body: JSON.stringify({ query: READ_QUERY }),
      expect: '"totalCount":',
    }
    const ourRun = await measureServer({ ...job, url: server.url }, server)
    log('baseline: warm-up, measure')
    await runLoad({ ...job, url: baseline.url, duration: env.warmup })
    const base = await runLoad({ ...job, url: baseline.url, duration: env.seconds })

    const x = ourRun.measured
    console.log(
      `read (${backend()}, ${seeded.users} users, ${seeded.groups} groups, ${env.connections} connections, ${env.seconds} s): server ${x.requests} requests${problems(x)}, baseline ${base.requests} requests${problems(base)}, response ${ours.text.length} bytes; ${load.note()}`,
    )
    console.log(memoryLine('read', ourRun))
    console.log(
      `read: ${fmt(x.rps)} req/s (p50 ${fmt(x.p50)} ms, p99 ${fmt(x.p99)} ms) vs baseline ${fmt(base.rps)} req/s (p50 ${fmt(base.p50)} ms, p99 ${fmt(base.p99)} ms), ratio ${fmt(x.rps / base.rps, 3)}`,
    )
  } finally {
    if (baseline) await new Promise((resolve) => baseline.server.close(resolve))
    if (server) await server.stop()
    if (driver) await driver.close()
    await target.drop()
  }
}
