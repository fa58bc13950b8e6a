import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { openDatabase, type Database, type DatabaseOptions } from '../../src/store/database'

/**
 * Test databases. Each run migrates one template (a PGlite dump, or a PostgreSQL template
 * database when DATABASE_URL is set); each test file gets a fresh copy of it.
 */
export const usingPostgres = Boolean(process.env.DATABASE_URL)

const TEMPLATE_ENV = 'LG_TEST_TEMPLATE'

export const templateLocation = () => {
  const value = process.env[TEMPLATE_ENV]
  if (!value) throw new Error('test template missing: run tests through jest (globalSetup)')
  return value
}

export function setTemplateLocation(value: string) {
  process.env[TEMPLATE_ENV] = value
}

/** A postgresql:// URL for another database on the server of DATABASE_URL. */
export function urlForDatabase(name: string): string {
  const url = new URL(process.env.DATABASE_URL!)
  url.pathname = `/${name}`
  return url.toString()
}

export async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

export const uniqueDatabaseName = (prefix: string) => `${prefix}_${randomBytes(6).toString('hex')}`

export interface TestDatabase {
  db: Database
  /** DATABASE_URL for a second process on the same database (PostgreSQL only). */
  url?: string
  drop(): Promise<void>
}

/** A fresh, migrated database for one test file. */
export async function freshDatabase(options: DatabaseOptions = {}): Promise<TestDatabase> {
  if (usingPostgres) {
    const name = uniqueDatabaseName('lg_test')
    await adminQuery(`CREATE DATABASE "${name}" TEMPLATE "${templateLocation()}"`)
    const url = urlForDatabase(name)
    const db = await openDatabase({ kind: 'postgres', url, poolSize: 5 }, options)
    return {
      db,
      url,
      async drop() {
        await db.close()
        await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      },
    }
  }
  const db = await openDatabase({ kind: 'embedded', dump: templateLocation() }, options)
  return { db, drop: () => db.close() }
}
