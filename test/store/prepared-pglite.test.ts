import { Prisma } from '../../src/generated/prisma/client'
import { freshDatabase, usingPostgres, type TestDatabase } from '../support/backend'

// The embedded database prepares its statements once and runs them by name (store/prepared-pglite.ts):
// what they return and how they fail must be what PGlite's own query() gives.
const describeEmbedded = usingPostgres ? describe.skip : describe

describeEmbedded('the embedded database, its statements prepared', () => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await freshDatabase()
  })
  afterAll(() => database.drop())

  test('values come back as their types: UTC timestamps, bigints, JSON, byte strings, arrays, enums and nulls', async () => {
    const at = new Date('2026-03-04T05:06:07.089Z')
    const [row] = await database.db.transaction((sql) =>
      sql.query<Record<string, unknown>>(
        `SELECT $1::timestamp AS at, 9007199254740993::bigint AS big, '{"a":[1,"x"]}'::jsonb AS doc,
                '\\x00ff'::bytea AS bytes, ARRAY['a', 'b']::text[] AS list, 'ACTIVE'::"UserStatus" AS status,
                NULL::text AS nothing`,
        [at],
      ),
    )
    expect(row).toEqual({
      at,
      big: 9007199254740993n,
      doc: { a: [1, 'x'] },
      bytes: new Uint8Array([0, 255]),
      list: ['a', 'b'],
      status: 'ACTIVE',
      nothing: null,
    })
  })

  test('Prisma reads and writes through prepared statements, and a unique violation is still its P2002', async () => {
    const name = `prepared group ${Date.now()}`
    const group = await database.db.prisma.group.create({
      data: { id: `grp_prepared_${Date.now().toString(36)}`, type: 'OKTA_GROUP', name },
    })
    expect(await database.db.prisma.group.findUnique({ where: { id: group.id } })).toMatchObject({ name })
    const duplicate = database.db.prisma.group.create({ data: { id: group.id, type: 'OKTA_GROUP', name: 'again' } })
    await expect(duplicate).rejects.toBeInstanceOf(Prisma.PrismaClientKnownRequestError)
    await expect(duplicate).rejects.toMatchObject({ code: 'P2002' })
  })

  test('a failed statement keeps its SQLSTATE, fails only its own unit of work, and the unit rolls back', async () => {
    const id = `grp_prepared_rollback_${Date.now().toString(36)}`
    const unit = database.db.transaction(async (sql) => {
      await sql.query(
        `INSERT INTO "Group" (id, type, name, created, "lastUpdated") VALUES ($1, 'OKTA_GROUP', $1, now(), now())`,
        [id],
      )
      await sql.query('SELECT 1 / 0')
    })
    await expect(unit).rejects.toMatchObject({ code: '22012' })
    expect(await database.db.prisma.group.count({ where: { id } })).toBe(0)
    const [{ one }] = await database.db.transaction((sql) => sql.query<{ one: number }>('SELECT 1 AS one'))
    expect(one).toBe(1)
  })

  test('a notification arrives once its transaction commits', async () => {
    const received: (string | undefined)[] = []
    const stop = await database.db.listen('prepared_test', (payload) => received.push(payload))
    try {
      await database.db.transaction(async (sql) => {
        await sql.query(`SELECT pg_notify('prepared_test', 'after commit')`)
        expect(received).toEqual([])
      })
      await eventually(() => received.length > 0)
      expect(received).toEqual(['after commit'])
    } finally {
      await stop()
    }
  })

  test('more distinct statements than it keeps prepared all still run, each with its own parameters', async () => {
    const results = []
    for (let i = 0; i < 600; i++) {
      const [row] = await database.db.transaction((sql) =>
        sql.query<{ value: number }>(`SELECT $1::int + ${i} AS value`, [i]),
      )
      results.push(row.value)
    }
    expect(results).toEqual(Array.from({ length: 600 }, (_, i) => 2 * i))
    const [again] = await database.db.transaction((sql) =>
      sql.query<{ value: number }>('SELECT $1::int + 0 AS value', [7]),
    )
    expect(again.value).toBe(7)
  })

  test('a prepared statement whose table changed shape runs again, prepared anew', async () => {
    const table = `prepared_shape_${Date.now().toString(36)}`
    await database.db.prisma.$executeRawUnsafe(`CREATE TABLE ${table} (a int)`)
    await database.db.prisma.$executeRawUnsafe(`INSERT INTO ${table} VALUES (1)`)
    const read = () => database.db.prisma.$queryRawUnsafe<Record<string, unknown>[]>(`SELECT * FROM ${table}`)
    expect(await read()).toEqual([{ a: 1 }])
    await database.db.prisma.$executeRawUnsafe(`ALTER TABLE ${table} ADD COLUMN b text DEFAULT 'x'`)
    expect(await read()).toEqual([{ a: 1, b: 'x' }])
  })
})

describeEmbedded('a closed embedded database', () => {
  test('refuses statements with a clear error instead of waiting forever', async () => {
    const database = await freshDatabase()
    await database.drop()
    await expect(database.db.transaction((sql) => sql.query('SELECT 1'))).rejects.toThrow(/closed/)
    await expect(database.db.ping()).rejects.toThrow(/closed/)
  })
})

async function eventually(check: () => boolean, limitMs = 5_000): Promise<void> {
  const until = Date.now() + limitMs
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
