import { freshDatabase, type TestDatabase } from '../support/backend'

// Units of work run in our own transactions; Prisma calls made inside one must join it.
let database: TestDatabase
beforeAll(async () => {
  database = await freshDatabase()
})
afterAll(() => database.drop())

let counter = 0
const groupRow = () => ({
  id: `grp_unit_${Date.now().toString(36)}_${++counter}`,
  name: `unit ${Date.now()} ${counter}`,
})
const insertGroup =
  'INSERT INTO "Group" (id, type, name, created, "lastUpdated") VALUES ($1, \'OKTA_GROUP\', $2, $3, $3)'
const failure = new Error('the unit of work fails')

test('a Prisma call inside a unit of work sees its uncommitted writes, and a failure rolls both back', async () => {
  const hand = groupRow()
  const viaPrisma = groupRow()
  const seen = database.db.transaction(async (sql) => {
    await sql.query(insertGroup, [hand.id, hand.name, new Date()])
    await database.db.prisma.group.create({ data: { ...viaPrisma, type: 'OKTA_GROUP' } })
    const both = await database.db.prisma.group.findMany({ where: { id: { in: [hand.id, viaPrisma.id] } } })
    expect(both).toHaveLength(2)
    throw failure
  })
  await expect(seen).rejects.toBe(failure)
  expect(await database.db.prisma.group.count({ where: { id: { in: [hand.id, viaPrisma.id] } } })).toBe(0)
})

test('outside a unit of work Prisma does not see its uncommitted writes', async () => {
  const hand = groupRow()
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  let inserted!: () => void
  const hasInserted = new Promise<void>((resolve) => (inserted = resolve))
  const unit = database.db.transaction(async (sql) => {
    await sql.query(insertGroup, [hand.id, hand.name, new Date()])
    inserted()
    await held
  })
  await hasInserted
  if (database.db.kind === 'postgres') {
    // PGlite has one connection: an outside query waits for the transaction instead.
    expect(await database.db.prisma.group.findFirst({ where: { id: hand.id } })).toBeNull()
  }
  release()
  await unit
  expect(await database.db.prisma.group.findFirst({ where: { id: hand.id } })).not.toBeNull()
})

test('a transaction Prisma opens inside a unit of work is a savepoint: it commits and rolls back with the unit', async () => {
  const kept = groupRow()
  await database.db.transaction(async () => {
    await database.db.prisma.$transaction(async (tx) => tx.group.create({ data: { ...kept, type: 'OKTA_GROUP' } }))
  })
  expect(await database.db.prisma.group.findFirst({ where: { id: kept.id } })).not.toBeNull()

  const hand = groupRow()
  const dropped = groupRow()
  const failed = database.db.transaction(async (sql) => {
    await sql.query(insertGroup, [hand.id, hand.name, new Date()])
    await database.db.prisma.$transaction(async (tx) => tx.group.create({ data: { ...dropped, type: 'OKTA_GROUP' } }))
    throw failure
  })
  await expect(failed).rejects.toBe(failure)
  expect(await database.db.prisma.group.count({ where: { id: { in: [hand.id, dropped.id] } } })).toBe(0)
})

test('a createMany too large for one statement (Prisma splits it in a transaction of its own) joins the unit of work', async () => {
  // 6,000 rows x 6 columns is more than PostgreSQL's 32,767 parameters per statement.
  const prefix = `grp_bulk_${Date.now().toString(36)}_`
  const rows = Array.from({ length: 6_000 }, (_, index) => ({
    id: `${prefix}${index}`,
    type: 'OKTA_GROUP' as const,
    name: `${prefix}${index}`,
    description: null,
    created: new Date(),
    lastUpdated: new Date(),
  }))
  const failed = database.db.transaction(async () => {
    await database.db.prisma.group.createMany({ data: rows })
    expect(await database.db.prisma.group.count({ where: { id: { startsWith: prefix } } })).toBe(rows.length)
    throw failure
  })
  await expect(failed).rejects.toBe(failure)
  expect(await database.db.prisma.group.count({ where: { id: { startsWith: prefix } } })).toBe(0)

  await database.db.transaction(() => database.db.prisma.group.createMany({ data: rows }))
  expect(await database.db.prisma.group.count({ where: { id: { startsWith: prefix } } })).toBe(rows.length)
}, 60_000)

test('queryAndCommit commits with the statement: its rows are kept and returned', async () => {
  const hand = groupRow()
  const rows = await database.db.transaction((sql) =>
    sql.queryAndCommit<{ id: string }>(`${insertGroup} RETURNING id`, [hand.id, hand.name, new Date()]),
  )
  expect(rows).toEqual([{ id: hand.id }])
  expect(await database.db.prisma.group.findFirst({ where: { id: hand.id } })).not.toBeNull()
})

test('timestamps written and read by hand are the instants Prisma writes and reads, whatever the local time zone', async () => {
  const instant = new Date('2026-01-15T23:30:00.123Z')
  expect(instant.getTimezoneOffset()).not.toBe(0) // the run's time zone (test/support/global-setup.ts)
  const hand = groupRow()
  await database.db.transaction((sql) => sql.query(insertGroup, [hand.id, hand.name, instant]))
  expect((await database.db.prisma.group.findFirst({ where: { id: hand.id } }))!.created).toEqual(instant)

  const viaPrisma = groupRow()
  await database.db.prisma.group.create({ data: { ...viaPrisma, type: 'OKTA_GROUP', created: instant } })
  const [row] = await database.db.transaction((sql) =>
    sql.query<{ created: Date }>('SELECT created FROM "Group" WHERE id = $1', [viaPrisma.id]),
  )
  expect(row.created).toEqual(instant)
})

test('a unit of work keeps joining its own transaction while other units start and end around it', async () => {
  // Round after round, so units also start after every earlier one has ended.
  for (let round = 0; round < 3; round++) {
    const early = groupRow()
    const late = groupRow()
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    const longUnit = database.db.transaction(async () => {
      await held
      await database.db.prisma.group.create({ data: { ...late, type: 'OKTA_GROUP' } })
      throw failure
    })
    const shortUnit = database.db.transaction(() =>
      database.db.prisma.group.create({ data: { ...early, type: 'OKTA_GROUP' } }),
    )
    // On PostgreSQL the short unit ends while the long one is still open; PGlite runs them in turn.
    if (database.db.kind === 'postgres') await shortUnit
    release()
    await expect(longUnit).rejects.toBe(failure)
    await shortUnit
    expect(await database.db.prisma.group.count({ where: { id: early.id } })).toBe(1)
    expect(await database.db.prisma.group.count({ where: { id: late.id } })).toBe(0)
  }
})

test('a query started from a unit of work but made after it ended runs outside every unit, even while another one runs', async () => {
  // A timer (or any callback) set inside a unit keeps the unit's async context after the unit commits
  // and its connection goes back to the pool (or its PGlite transaction is over).
  const straggler = groupRow()
  const rolledBack = groupRow()
  let strayWrite!: Promise<unknown>
  let fired!: () => void
  const hasFired = new Promise<void>((resolve) => (fired = resolve))
  let fire!: () => void
  const firing = new Promise<void>((resolve) => (fire = resolve))
  await database.db.transaction(async () => {
    void firing.then(() => {
      strayWrite = database.db.prisma.group.create({ data: { ...straggler, type: 'OKTA_GROUP' } })
      void strayWrite.then(fired, fired)
    })
  })
  // Another unit runs (on PostgreSQL, likely on the same pooled connection) when the callback fires.
  const other = database.db.transaction(async (sql) => {
    await sql.query(insertGroup, [rolledBack.id, rolledBack.name, new Date()])
    fire()
    // PGlite has one connection: a query outside this unit waits for it, so this unit only gives it time to be sent.
    await (database.db.kind === 'postgres' ? hasFired : new Promise((resolve) => setTimeout(resolve, 100)))
    throw failure
  })
  await expect(other).rejects.toBe(failure)
  await strayWrite
  expect(await database.db.prisma.group.count({ where: { id: rolledBack.id } })).toBe(0)
  expect(await database.db.prisma.group.count({ where: { id: straggler.id } })).toBe(1)
})
