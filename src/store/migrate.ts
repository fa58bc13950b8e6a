import { createHash, randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/** The little a migration needs from a database connection. */
export interface MigrationConnection {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>
  /** Runs a multi-statement script as-is (no splitting on `;`). */
  script(sql: string): Promise<void>
}

export interface MigrationReport {
  applied: string[]
}

// Prisma's own advisory-lock key, so this also serializes against a native `prisma migrate deploy`.
const PRISMA_MIGRATION_LOCK = 72707369

/** The project's migrations folder, found from the running file up to the package root. */
export function defaultMigrationsDir(): string {
  let dir = __dirname
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error('cannot locate the project root from ' + __dirname)
    dir = parent
  }
  return path.join(dir, 'prisma', 'migrations')
}

/**
 * Applies pending migrations from `prisma/migrations` in Prisma's standard bookkeeping
 * (`_prisma_migrations`), each migration as one script in one transaction: a failing
 * migration leaves nothing behind and records nothing. We do not use Prisma's wasm engine
 * to apply because it splits scripts on `;` (pg) or does not await them (PGlite); see stack.md.
 */
export async function applyMigrations(
  db: MigrationConnection,
  options: { migrationsDir?: string; advisoryLock?: boolean } = {},
): Promise<MigrationReport> {
  const migrationsDir = options.migrationsDir ?? defaultMigrationsDir()
  const lock = options.advisoryLock ?? true
  if (lock) await db.query(`SELECT pg_advisory_lock(${PRISMA_MIGRATION_LOCK})`)
  try {
    await db.script(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`)
    const rows = await db.query<{ migration_name: string; finished_at: Date | null; rolled_back_at: Date | null }>(
      'SELECT migration_name, finished_at, rolled_back_at FROM "_prisma_migrations"',
    )
    const failed = rows.filter((row) => row.finished_at === null && row.rolled_back_at === null)
    if (failed.length > 0) {
      throw new Error(
        `migration ${failed[0].migration_name} failed earlier and must be resolved by hand (Prisma P3009)`,
      )
    }
    const applied = new Set(rows.filter((row) => row.rolled_back_at === null).map((row) => row.migration_name))
    const pending = listMigrations(migrationsDir).filter((name) => !applied.has(name))
    for (const name of pending) {
      const file = fs.readFileSync(path.join(migrationsDir, name, 'migration.sql'))
      const checksum = createHash('sha256').update(file).digest('hex')
      await db.query('BEGIN')
      try {
        await db.script(file.toString('utf8'))
        await db.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
           VALUES ($1, $2, now(), $3, 1)`,
          [randomUUID(), checksum, name],
        )
        await db.query('COMMIT')
      } catch (error) {
        await db.query('ROLLBACK')
        throw new Error(`migration ${name} failed and was rolled back: ${(error as Error).message}`)
      }
    }
    return { applied: pending }
  } finally {
    if (lock) await db.query(`SELECT pg_advisory_unlock(${PRISMA_MIGRATION_LOCK})`)
  }
}

function listMigrations(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
}
