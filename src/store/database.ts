import fs from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaPGlite } from 'pglite-prisma-adapter'
import pg from 'pg'
import { PrismaClient } from '../generated/prisma/client'
import { lockDataDir } from './data-dir-lock'
import { preparedPGlite, type EmbeddedPGlite } from './prepared-pglite'
import { applyMigrations, type MigrationConnection, type MigrationReport } from './migrate'
import { pgliteTransaction, routedPGlite, UnitRoutingPool, type RunInTransaction, type Sql } from './unit-connection'

export type Prisma = PrismaClient

/**
 * Where the data lives: PostgreSQL by URL, or the embedded PGlite: a data directory (none: in
 * memory), optionally started from a dump file (a data-directory tarball from PGlite's
 * dumpDataDir), or an instance opened by the caller.
 */
export type DatabaseTarget =
  | { kind: 'postgres'; url: string; poolSize?: number }
  | { kind: 'embedded'; dataDir?: string; dump?: string; instance?: PGlite }

/** An open database: the Prisma client plus the lower-level handles migrations and health checks need. */
export interface Database {
  readonly kind: DatabaseTarget['kind']
  readonly prisma: Prisma
  /** Runs work in one transaction on one connection; Prisma calls made inside it join it. */
  readonly transaction: RunInTransaction
  migrate(migrationsDir?: string): Promise<MigrationReport>
  ping(): Promise<void>
  /**
   * Calls `onNotify` with the payload whenever a transaction that ran `NOTIFY channel` commits, in
   * this process or (on PostgreSQL) any other. Notifications are hints: a listener that was
   * reconnecting may have missed some, so it is also called once, without a payload, after every
   * reconnect. Resolves to a function that stops listening.
   */
  listen(channel: string, onNotify: (payload?: string) => void): Promise<() => Promise<void>>
  /** PostgreSQL's connection pool, for libraries that keep what every process shares in the database (the rate limit); null when embedded. */
  readonly pgPool: pg.Pool | null
  /** Connections of the pool (the embedded database has exactly one). */
  poolStats(): { total: number; idle: number; waiting: number }
  close(): Promise<void>
}

export interface DatabaseOptions {
  /** Called with every SQL statement the Prisma client sends (tests count round trips with it). */
  onQuery?: (sql: string) => void
  /**
   * Called if another process takes over the lock of the embedded data directory while this one
   * holds it (after this process stopped refreshing it for several seconds): its writes are no
   * longer safe. By default the error is thrown.
   */
  onLockLost?: (error: Error) => void
}

/** Opens the embedded default (PGlite) or PostgreSQL behind one Prisma schema. */
export async function openDatabase(target: DatabaseTarget, options: DatabaseOptions = {}): Promise<Database> {
  return target.kind === 'postgres'
    ? openPostgres(target.url, target.poolSize ?? 10, options)
    : openEmbedded(target, options)
}

/** Reports hand-written statements to onQuery too. */
function observed(transaction: RunInTransaction, { onQuery }: DatabaseOptions): RunInTransaction {
  if (!onQuery) return transaction
  return (work) =>
    transaction((sql) =>
      work({
        query: (text, params) => (onQuery(text), sql.query(text, params)),
        queryAndCommit: (text, params) => (onQuery(text), sql.queryAndCommit(text, params)),
      } satisfies Sql),
    )
}

function createClient(adapter: PrismaPg | PrismaPGlite, { onQuery }: DatabaseOptions): PrismaClient {
  if (!onQuery) return new PrismaClient({ adapter })
  const client = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] })
  client.$on('query', (event) => onQuery(event.query))
  return client
}

function openPostgres(url: string, poolSize: number, options: DatabaseOptions): Database {
  // Our own pool, so its use can be reported; the adapter does not end a pool it was given.
  const pool = new UnitRoutingPool({ connectionString: url, max: poolSize })
  // An idle connection the server drops (restart, failover) is discarded and replaced on the next
  // query; without a listener the pool's 'error' event would crash the process.
  pool.on('error', () => {})
  const prisma = createClient(new PrismaPg(pool), options)
  return {
    kind: 'postgres',
    prisma,
    transaction: observed(pool.transaction, options),
    async migrate(migrationsDir) {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        const connection: MigrationConnection = {
          query: async (sql, params) => (await client.query(sql, params as unknown[])).rows,
          script: async (sql) => void (await client.query(sql)),
        }
        return await applyMigrations(connection, { migrationsDir })
      } finally {
        await client.end()
      }
    },
    ping: async () => void (await prisma.$queryRaw`SELECT 1`),
    listen: (channel, onNotify) => listenOnPostgres(url, channel, onNotify),
    pgPool: pool,
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close() {
      await prisma.$disconnect()
      await pool.end()
    },
  }
}

async function openEmbedded(
  target: { dataDir?: string; dump?: string; instance?: PGlite },
  options: DatabaseOptions,
): Promise<Database> {
  // One process per data directory: a second PGlite on the same files would lose the writes of one of them.
  let unlock = async () => {}
  if (target.dataDir) {
    fs.mkdirSync(target.dataDir, { recursive: true })
    unlock = await lockDataDir(
      target.dataDir,
      options.onLockLost ??
        ((error) => {
          throw error
        }),
    )
  }
  let instance: EmbeddedPGlite
  try {
    const loadDataDir = target.dump ? new Blob([fs.readFileSync(target.dump)]) : undefined
    instance = await preparedPGlite(target.instance ?? new PGlite({ dataDir: target.dataDir, loadDataDir }))
  } catch (error) {
    await unlock()
    throw error
  }
  const prisma = createClient(new PrismaPGlite(routedPGlite(instance)), options)
  return {
    kind: 'embedded',
    prisma,
    transaction: observed(pgliteTransaction(instance), options),
    migrate(migrationsDir) {
      // PGlite has a single connection and nothing else uses it yet, so no advisory lock is needed.
      const connection: MigrationConnection = {
        query: async <T>(sql: string, params?: unknown[]) => (await instance.query<T>(sql, params)).rows,
        script: async (sql) => void (await instance.exec(sql)),
      }
      return applyMigrations(connection, { migrationsDir, advisoryLock: false })
    },
    ping: async () => void (await instance.query('SELECT 1')),
    listen: (channel, onNotify) => instance.listen(channel, onNotify),
    pgPool: null,
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    async close() {
      await prisma.$disconnect()
      if (!instance.closed) await instance.close()
      await unlock()
    },
  }
}

const RECONNECT_DELAY_MS = 1_000

/** LISTEN needs a connection of its own (a pooled one goes back to the pool); it is re-opened when lost. */
async function listenOnPostgres(
  url: string,
  channel: string,
  onNotify: (payload?: string) => void,
): Promise<() => Promise<void>> {
  let client: pg.Client | undefined
  let stopped = false
  let retry: NodeJS.Timeout | undefined
  const reconnect = () => {
    if (!stopped) retry = setTimeout(() => void connect().then(() => onNotify(), reconnect), RECONNECT_DELAY_MS)
  }
  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url })
    next.on('notification', (message) => onNotify(message.payload))
    next.on('error', () => {
      void next.end().catch(() => {})
      reconnect()
    })
    await next.connect()
    await next.query(`LISTEN "${channel.replaceAll('"', '""')}"`)
    client = next
  }
  await connect()
  return async () => {
    stopped = true
    clearTimeout(retry)
    await client?.end().catch(() => {})
  }
}
