import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { defaultMigrationsDir } from '../../src/store/migrate'
import { openDatabase, type Database } from '../../src/store/database'
import { adminQuery, uniqueDatabaseName, urlForDatabase, usingPostgres } from '../support/backend'

/** An empty database on the backend under test (not cloned from the migrated template). */
async function emptyDatabase(): Promise<{ db: Database; drop(): Promise<void> }> {
  if (usingPostgres) {
    const name = uniqueDatabaseName('lg_migrate')
    await adminQuery(`CREATE DATABASE "${name}"`)
    const db = await openDatabase({ kind: 'postgres', url: urlForDatabase(name), poolSize: 2 })
    return {
      db,
      drop: async () => {
        await db.close()
        await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      },
    }
  }
  const db = await openDatabase({ kind: 'embedded', instance: new PGlite() })
  return { db, drop: () => db.close() }
}

const migrationNames = () =>
  fs
    .readdirSync(defaultMigrationsDir())
    .filter((name) => /^\d+_/.test(name))
    .sort()

test('a fresh database applies every migration, and a second run applies nothing', async () => {
  const { db, drop } = await emptyDatabase()
  try {
    expect((await db.migrate()).applied).toEqual(migrationNames())
    expect((await db.migrate()).applied).toEqual([])
    const rows = await db.prisma.$queryRawUnsafe<{ migration_name: string; checksum: string }[]>(
      'SELECT migration_name, checksum FROM "_prisma_migrations" ORDER BY migration_name',
    )
    expect(rows.map((row) => row.migration_name)).toEqual(migrationNames())
    expect(rows.every((row) => /^[0-9a-f]{64}$/.test(row.checksum))).toBe(true)
    expect(await db.prisma.user.count()).toBe(0)
  } finally {
    await drop()
  }
})

test('a failing migration rolls back whole and is not recorded', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-migrations-'))
  fs.cpSync(defaultMigrationsDir(), dir, { recursive: true })
  fs.mkdirSync(path.join(dir, '99990101000000_broken'))
  fs.writeFileSync(
    path.join(dir, '99990101000000_broken', 'migration.sql'),
    'CREATE TABLE "Half" (id INT);\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;\nSELECT no_such_function();\n',
  )
  const { db, drop } = await emptyDatabase()
  try {
    await expect(db.migrate(dir)).rejects.toThrow(/99990101000000_broken failed and was rolled back/)
    const tables = await db.prisma.$queryRawUnsafe<{ count: bigint }[]>(
      `SELECT count(*) AS count FROM pg_tables WHERE tablename = 'Half'`,
    )
    expect(Number(tables[0].count)).toBe(0)
    const recorded = await db.prisma.$queryRawUnsafe<{ migration_name: string }[]>(
      'SELECT migration_name FROM "_prisma_migrations"',
    )
    expect(recorded.map((row) => row.migration_name)).toEqual(migrationNames())
  } finally {
    await drop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
