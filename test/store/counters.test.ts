// The harness first: it loads reflect-metadata, which the GraphQL types imported below need.
import { startTestServer, type TestServer } from '../support/harness'
import { EVERYONE_GROUP_ID } from '../../src/groups/group-membership'
import { EXACT_COUNT_LIMIT } from '../../src/users/user-queries'
import {
  addMember,
  assignGroup,
  assignUser,
  createApp,
  createGroup,
  removeMember,
  unassignUser,
} from '../support/directory'
import { createUser, lifecycle } from '../support/users'

/**
 * Counts come from the counters the database keeps (store/counters.ts), never from a scan, and
 * must equal the truth whoever writes: mutations, cascades, a bulk statement, a fold racing them.
 * On PostgreSQL the racing rounds really overlap; on the embedded database they run one after the other.
 */
let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

const prisma = () => api.database.db.prisma
const counters = () => api.server.services.counters
const PASSWORD = 'correct horse battery'

/** Every counter as kept, and as a count(*) of the rows it counts, keyed `counter parent value`. */
async function keptAndTruth() {
  const asMap = (rows: { key: string; total: bigint }[]) =>
    Object.fromEntries(rows.filter((row) => row.total !== 0n).map((row) => [row.key, Number(row.total)]))
  const kept = await prisma().$queryRawUnsafe<{ key: string; total: bigint }[]>(
    `SELECT counter || ' ' || parent || ' ' || value AS key, sum(delta)::bigint AS total FROM "CounterDelta" GROUP BY 1`,
  )
  const truth = await prisma().$queryRawUnsafe<{ key: string; total: bigint }[]>(
    `SELECT 'user.status  ' || status AS key, count(*) AS total FROM "User" GROUP BY status
     UNION ALL SELECT 'appUser.status ' || "appId" || ' ' || status, count(*) FROM "AppUser" GROUP BY "appId", status
     UNION ALL SELECT 'appUser.syncState ' || "appId" || ' ' || "syncState", count(*) FROM "AppUser" GROUP BY "appId", "syncState"
     UNION ALL SELECT 'group.members ' || "groupId" || ' ', count(*) FROM "GroupMembership" GROUP BY "groupId"`,
  )
  return { kept: asMap(kept), truth: asMap(truth) }
}

async function expectCountersExact() {
  const { kept, truth } = await keptAndTruth()
  expect(kept).toEqual(truth)
}

async function usersTotal(filter: Record<string, unknown> = {}) {
  const response = await api.gql(
    `query($filter: UserFilter) { users(filter: $filter, first: 1) { totalCount totalCountIsEstimate } }`,
    { filter },
  )
  expect(response.errors).toBeUndefined()
  return response.data.users
}

async function membersTotal(groupId: string): Promise<number> {
  const response = await api.gql(`query($id: ID!) { group(id: $id) { members(first: 1) { totalCount } } }`, {
    id: groupId,
  })
  return response.data.group.members.totalCount
}

async function appUsersTotal(appId: string): Promise<number> {
  const response = await api.gql(`query($id: ID!) { app(id: $id) { users(first: 1) { totalCount } } }`, {
    id: appId,
  })
  return response.data.app.users.totalCount
}

const countUsers = (where: object = {}) => prisma().user.count({ where })

describe('counts read from the counters', () => {
  test('users per status, group members and app users follow every lifecycle change, and a deleted user leaves every count', async () => {
    const [group, app] = [await createGroup(api), await createApp(api)]
    const active = (await createUser(api, { password: PASSWORD })).user
    const staged = (await createUser(api, { activate: false })).user
    const suspended = (await createUser(api, { password: PASSWORD })).user
    await lifecycle(api, 'suspendUser', suspended.id)
    for (const user of [active, staged, suspended]) await addMember(api, group.id, user.id)
    await assignGroup(api, app.id, group.id)
    await assignUser(api, app.id, active.id)

    expect(await usersTotal()).toEqual({
      totalCount: await countUsers({ status: { not: 'DEPROVISIONED' } }),
      totalCountIsEstimate: false,
    })
    expect((await usersTotal({ status: ['SUSPENDED'] })).totalCount).toBe(await countUsers({ status: 'SUSPENDED' }))
    expect((await usersTotal({ status: ['ACTIVE', 'STAGED', 'ACTIVE'] })).totalCount).toBe(
      await countUsers({ status: { in: ['ACTIVE', 'STAGED'] } }),
    )
    expect(await membersTotal(group.id)).toBe(3)
    expect(await appUsersTotal(app.id)).toBe(3)

    await lifecycle(api, 'deactivateUser', active.id)
    await lifecycle(api, 'deleteUser', active.id)
    expect(await membersTotal(group.id)).toBe(2)
    expect(await appUsersTotal(app.id)).toBe(2)
    expect((await usersTotal({ status: ['DEPROVISIONED'] })).totalCount).toBe(
      await countUsers({ status: 'DEPROVISIONED' }),
    )
    expect(await membersTotal(EVERYONE_GROUP_ID)).toBe(await countUsers())
    await expectCountersExact()
  })

  test('a bulk statement that bypasses every service is counted too (the triggers count per statement)', async () => {
    const before = await countUsers({ status: 'STAGED' })
    await prisma().$executeRawUnsafe(
      `INSERT INTO "User" (id, status, login, email) SELECT 'usr_bulk' || i, 'STAGED', 'bulk' || i || '@example.com', 'bulk' || i || '@example.com' FROM generate_series(1, 500) i`,
    )
    expect((await usersTotal({ status: ['STAGED'] })).totalCount).toBe(before + 500)
    await prisma().$executeRawUnsafe(
      `UPDATE "User" SET status = 'ACTIVE' WHERE id LIKE 'usr_bulk%' AND id < 'usr_bulk3'`,
    )
    await prisma().$executeRawUnsafe(`DELETE FROM "User" WHERE id LIKE 'usr_bulk%'`)
    expect((await usersTotal({ status: ['STAGED'] })).totalCount).toBe(before)
    await expectCountersExact()
  })

  test('a text filter is counted exactly up to the limit and says so; past it the count is an estimate and says so', async () => {
    const prefix = `many${Date.now().toString(36)}`
    await prisma().$executeRawUnsafe(
      `INSERT INTO "User" (id, status, login, email) SELECT 'usr_many' || lpad(i::text, 6, '0'), 'ACTIVE', '${prefix}' || i || '@example.com', '${prefix}' || i || '@example.com' FROM generate_series(1, ${EXACT_COUNT_LIMIT + 1}) i`,
    )
    const few = await usersTotal({ q: `${prefix}1000` })
    expect(few).toEqual({
      totalCount: await countUsers({ login: { startsWith: `${prefix}1000` } }),
      totalCountIsEstimate: false,
    })
    const many = await usersTotal({ q: prefix })
    expect(many.totalCountIsEstimate).toBe(true)
    expect(many.totalCount).toBeGreaterThan(EXACT_COUNT_LIMIT)
    expect(many.totalCount).toBeLessThanOrEqual(await countUsers({ status: { not: 'DEPROVISIONED' } }))
    // Without the text filter the same users are counted exactly, from the counters.
    expect(await usersTotal()).toEqual({
      totalCount: await countUsers({ status: { not: 'DEPROVISIONED' } }),
      totalCountIsEstimate: false,
    })
  }, 120_000)

  test('a read that sums many deltas folds them into one row per value, and the count stays the same', async () => {
    const group = await createGroup(api)
    const users = []
    for (let i = 0; i < 70; i++) users.push((await createUser(api, { activate: false })).user)
    for (const user of users) await addMember(api, group.id, user.id)
    for (const user of users.slice(0, 5)) await removeMember(api, group.id, user.id)
    const deltaRows = () => prisma().counterDelta.count({ where: { counter: 'group.members', parent: group.id } })
    expect(await deltaRows()).toBe(75)

    expect(await membersTotal(group.id)).toBe(65) // reads 75 rows: folds them in the background
    for (let wait = 0; (await deltaRows()) > 1 && wait < 100; wait++) await new Promise((r) => setTimeout(r, 50))
    expect(await deltaRows()).toBe(1)
    expect(await membersTotal(group.id)).toBe(65)
    await expectCountersExact()
  }, 120_000)
})

// Races need real concurrency: PostgreSQL. (On the embedded database, whose one connection runs
// everything in turn, this test with its fold loop did not finish in 20 minutes: not yet understood.)
const onPostgres = Boolean(process.env.DATABASE_URL)

;(onPostgres ? describe : describe.skip)('racing writers', () => {
  const ROUNDS = 6
  const WRITERS = 8

  /** One writer's mix: create, activate, suspend, join and leave groups, get and lose app assignments, delete. */
  async function churn(groupIds: string[], appId: string, n: number) {
    const { user } = await createUser(api, { activate: false })
    await lifecycle(api, 'activateUser', user.id)
    await addMember(api, groupIds[n % groupIds.length], user.id)
    await assignUser(api, appId, user.id)
    if (n % 2) await lifecycle(api, 'suspendUser', user.id)
    await addMember(api, groupIds[(n + 1) % groupIds.length], user.id)
    if (n % 3 === 0) await removeMember(api, groupIds[n % groupIds.length], user.id)
    if (n % 3 === 1) await unassignUser(api, appId, user.id)
    if (n % 4 === 0) {
      await lifecycle(api, 'deactivateUser', user.id)
      await lifecycle(api, 'deleteUser', user.id)
    }
  }

  test('many concurrent mutations, with folds racing them, leave every counter equal to a count of the rows', async () => {
    const groupIds = [(await createGroup(api)).id, (await createGroup(api)).id]
    const app = await createApp(api)
    await assignGroup(api, app.id, groupIds[0])
    for (let round = 0; round < ROUNDS; round++) {
      let writing = true
      const writers = Array.from({ length: WRITERS }, (_, n) => churn(groupIds, app.id, round * WRITERS + n))
      const folds = (async () => {
        while (writing) {
          await Promise.all([
            counters().fold('group.members', [...groupIds, EVERYONE_GROUP_ID]),
            counters().fold('user.status', ['']),
            counters().fold('appUser.status', [app.id]),
            counters().fold('appUser.syncState', [app.id]),
          ])
        }
      })()
      await Promise.all(writers).finally(() => (writing = false))
      await folds
      await expectCountersExact()
    }
  }, 600_000)
})
