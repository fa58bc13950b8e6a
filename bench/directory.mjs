// Scenarios assign-group and activate-rule (npm run bench -- <name>): membership cascades at 5,000 users.
// Each scenario seeds a fresh database (embedded; PostgreSQL in a scratch database when
// DATABASE_URL is set), times the use case through the service layer, counts its SQL
// statements, and compares with hand-written set-based SQL doing the same writes in the same run.
import 'reflect-metadata'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { PGlite } from '@electric-sql/pglite'
import { openDatabase } from '../dist/src/store/database.js'
import { composeApplication } from '../dist/src/app.js'
import { createLogger } from '../dist/src/logger.js'
import { loadConfig } from '../dist/src/config.js'
import { SYSTEM_ACTOR } from '../dist/src/events/event-log.js'

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 5000)
const scenarios = { 'assign-group': assignGroup, 'activate-rule': activateRule }

async function scratchDatabase(statements) {
  const onQuery = () => void statements.count++
  if (!process.env.DATABASE_URL) {
    const db = await openDatabase({ kind: 'embedded', instance: new PGlite() }, { onQuery })
    await db.migrate()
    return { db, drop: () => db.close(), raw: (sql) => db.prisma.$executeRawUnsafe(sql) }
  }
  const name = `lg_bench_${randomBytes(4).toString('hex')}`
  const admin = async (sql) => {
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL })
    await c.connect()
    await c.query(sql)
    await c.end()
  }
  await admin(`CREATE DATABASE "${name}"`)
  const url = new URL(process.env.DATABASE_URL)
  url.pathname = `/${name}`
  const db = await openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 4 }, { onQuery })
  await db.migrate()
  return {
    db,
    drop: async () => {
      await db.close()
      await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    },
    raw: (sql) => db.prisma.$executeRawUnsafe(sql),
  }
}

/** Seeds `count` ACTIVE users (half in Engineering) as members of Everyone and of one group. */
async function seed(db, services, count) {
  const now = new Date()
  const users = Array.from({ length: count }, (_, i) => ({
    id: `usr_bench${String(i).padStart(6, '0')}`,
    status: 'ACTIVE',
    login: `bench${i}@example.com`,
    email: `bench${i}@example.com`,
    department: i % 2 ? 'Engineering' : 'Sales',
    created: now,
    lastUpdated: now,
  }))
  await db.prisma.user.createMany({ data: users })
  const group = (await services.groups.create({ name: 'bench members' }, SYSTEM_ACTOR)).value
  await db.prisma.groupMembership.createMany({
    data: users.flatMap((user) => [
      { groupId: 'grp_everyone', userId: user.id },
      { groupId: group.id, userId: user.id },
    ]),
  })
  return group
}

async function timed(fn) {
  const started = performance.now()
  const value = await fn()
  return { ms: performance.now() - started, value }
}

async function assignGroup({ db, services, statements, raw }) {
  const group = await seed(db, services, MEMBERS)
  const app = (await services.apps.create({ name: 'bench', label: 'Bench app', signOnMode: 'SAML_2_0' }, SYSTEM_ACTOR))
    .value
  await services.apps.updateConnection(
    app.id,
    { baseUrl: 'http://127.0.0.1:9/scim/v2', status: 'ENABLED' },
    SYSTEM_ACTOR,
  )
  statements.count = 0
  const ours = await timed(() => services.apps.assignGroup(app.id, group.id, null, SYSTEM_ACTOR))
  if (!ours.value.ok) throw new Error(JSON.stringify(ours.value.errors))
  const ourStatements = statements.count
  const appUsers = await db.prisma.appUser.count({ where: { appId: app.id, status: 'STAGED' } })
  const jobs = await db.prisma.provisioningJob.count({ where: { appId: app.id } })

  // Baseline: the same rows (app users, jobs, events) written by hand in one transaction.
  const baseline = await timed(() =>
    raw(`DO $$ BEGIN
    INSERT INTO "App" (id, name, label, status, "signOnMode", "provisioningStatus", "lastUpdated") VALUES ('app_baseline', 'b', 'b', 'ACTIVE', 'SAML_2_0', 'ENABLED', now());
    INSERT INTO "AppGroupAssignment" ("appId", "groupId", priority) VALUES ('app_baseline', '${group.id}', 0);
    INSERT INTO "AppUser" (id, "appId", "userId", scope, status, "syncState", "lastUpdated", "statusChanged")
      SELECT 'apu_b' || m."userId", 'app_baseline', m."userId", 'GROUP', 'STAGED', 'OUT_OF_SYNC', now(), now() FROM "GroupMembership" m WHERE m."groupId" = '${group.id}';
    INSERT INTO "ProvisioningJob" ("appUserId", "appId", "userId", type) SELECT 'apu_b' || m."userId", 'app_baseline', m."userId", 'CREATE' FROM "GroupMembership" m WHERE m."groupId" = '${group.id}';
    PERFORM pg_advisory_xact_lock(4711000001);
    INSERT INTO "LifecycleEvent" (id, type, "actorType", "targetId", "targetType", targets, "outcomeResult", data)
      SELECT 'evt_b' || m."userId", 'application.user_membership.add', 'System', m."userId", 'User', '[]', 'SUCCESS', '{}' FROM "GroupMembership" m WHERE m."groupId" = '${group.id}';
  END $$`),
  )
  return {
    label: 'assign-group',
    detail: `${appUsers} app users STAGED, ${jobs} jobs queued`,
    ours: ours.ms,
    ourStatements,
    baseline: baseline.ms,
  }
}

async function activateRule({ db, services, statements, raw }) {
  await seed(db, services, MEMBERS)
  const target = (await services.groups.create({ name: 'engineering' }, SYSTEM_ACTOR)).value
  const rule = (
    await services.groupRules.create(
      { name: 'eng', expression: 'user.department == "Engineering"', assignToGroups: [target.id] },
      SYSTEM_ACTOR,
    )
  ).value
  statements.count = 0
  const ours = await timed(() => services.groupRules.activate(rule.id, SYSTEM_ACTOR))
  if (!ours.value.ok) throw new Error(JSON.stringify(ours.value.errors))
  const ourStatements = statements.count
  const members = await db.prisma.groupMembership.count({ where: { groupId: target.id } })
  const other = (await services.groups.create({ name: 'engineering baseline' }, SYSTEM_ACTOR)).value
  const baseline = await timed(() =>
    raw(`DO $$ BEGIN
    INSERT INTO "GroupMembership" ("groupId", "userId", "ruleId") SELECT '${other.id}', id, '${rule.id}' FROM "User" WHERE department = 'Engineering' AND status <> 'DEPROVISIONED';
    PERFORM pg_advisory_xact_lock(4711000001);
    INSERT INTO "LifecycleEvent" (id, type, "actorType", "targetId", "targetType", targets, "outcomeResult", data)
      SELECT 'evt_r' || id, 'group.user_membership.add', 'System', id, 'User', '[]', 'SUCCESS', '{}' FROM "User" WHERE department = 'Engineering';
  END $$`),
  )
  return {
    label: 'activate-rule',
    detail: `${members} users added by the rule`,
    ours: ours.ms,
    ourStatements,
    baseline: baseline.ms,
  }
}

/** Runs one of this file's scenarios and prints its result lines. */
export async function run(name) {
  const statements = { count: 0 }
  const { db, drop, raw } = await scratchDatabase(statements)
  try {
    const { services } = composeApplication(loadConfig({}), db, createLogger('silent'))
    const r = await scenarios[name]({ db, services, statements, raw })
    const backend = process.env.DATABASE_URL ? 'postgresql' : 'embedded'
    console.log(`${r.label} (${backend}, ${MEMBERS} users): ${r.detail}`)
    console.log(
      `${r.label}: ${r.ours.toFixed(0)} ms in 1 transaction, ${r.ourStatements} SQL statements vs hand-written SQL ${r.baseline.toFixed(0)} ms, ratio ${(r.baseline / r.ours).toFixed(2)}`,
    )
  } finally {
    await drop()
  }
}

export const names = Object.keys(scenarios)
