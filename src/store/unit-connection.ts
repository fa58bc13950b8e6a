import { AsyncLocalStorage } from 'node:async_hooks'
import type { PGlite, Transaction as PGliteTransaction } from '@electric-sql/pglite'
import pg from 'pg'
import type { EmbeddedPGlite } from './prepared-pglite'

/**
 * Units of work run in transactions we begin and commit ourselves, on one connection, so that
 * the COMMIT can follow the last statement without waiting for the event loop: the append lock
 * that statement takes is then held for about a round trip, however busy the process is.
 * Prisma's adapters are given a pool (or a PGlite) that sends a query made inside a unit of work
 * to that unit's connection, so Prisma calls and hand-written SQL share the transaction.
 *
 * A transaction Prisma opens inside a unit of work (it does for a createMany too large for one
 * statement) becomes a savepoint in ours. Prisma must not batch findUnique calls with other
 * requests' (a batch runs on whichever connection its first caller had): the unit's `tx` type
 * omits findUnique for that reason.
 */

/** Hand-written SQL on the connection of the unit of work it was handed to. */
export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>
  /** The transaction's last statement, with COMMIT sent right behind it; nothing may follow. */
  queryAndCommit<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>
}

export type RunInTransaction = <T>(work: (sql: Sql) => Promise<T>) => Promise<T>

const SAVEPOINT = 'prisma_nested'
const AS_SAVEPOINT: Record<string, string> = {
  BEGIN: `SAVEPOINT ${SAVEPOINT}`,
  COMMIT: `RELEASE SAVEPOINT ${SAVEPOINT}`,
  ROLLBACK: `ROLLBACK TO SAVEPOINT ${SAVEPOINT}`,
}

// Prisma stores DateTime as `timestamp(3)` in UTC; both drivers would read it as local time.
const utcTimestamp = (value: string) => new Date(`${value.replace(' ', 'T')}Z`)
const TIMESTAMP = 1114
const INT8 = 20
// ...and pg would send a Date as local time with an offset, which timestamp(3) drops.
const toDriver = (params: unknown[] = []) =>
  params.map((value) => (value instanceof Date ? value.toISOString() : value))

/**
 * The connection of the unit of work a query is made in. Node 20's AsyncLocalStorage pays an async
 * hook on every promise of the process once enabled, and a subscriber process makes thousands of
 * promises per event without ever running a unit of work: the storage is enabled only while a unit
 * runs, and disabled again when the last one ends (a later `run` enables it anew, as the first did).
 */
class UnitStorage<T> {
  // A callback or timer set inside a unit keeps its context after the unit ended, when the
  // connection is back in the pool (maybe another unit's) or the PGlite transaction is over:
  // the unit's entry is emptied as it ends, so such a late query goes to the pool.
  private readonly storage = new AsyncLocalStorage<{ connection: T | undefined }>()
  private running = 0

  /** The current unit's connection; undefined outside every unit (and whenever none runs). */
  current(): T | undefined {
    return this.running > 0 ? this.storage.getStore()?.connection : undefined
  }

  async run<R>(connection: T, work: () => Promise<R>): Promise<R> {
    const unit: { connection: T | undefined } = { connection }
    this.running++
    try {
      // Awaited inside the context: a Prisma promise runs its query only when awaited.
      return await this.storage.run(unit, async () => await work())
    } finally {
      unit.connection = undefined
      if (--this.running === 0) this.storage.disable()
    }
  }
}

// --- PostgreSQL (pg) ---

const pgConnection = new UnitStorage<pg.PoolClient>()
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === TIMESTAMP) return utcTimestamp
    if (oid === INT8) return BigInt
    return pg.types.getTypeParser(oid, format)
  }) as pg.CustomTypesConfig['getTypeParser'],
}

/** A pool whose queries run on the current unit of work's connection, if there is one. */
export class UnitRoutingPool extends pg.Pool {
  override query(...args: unknown[]): never {
    const client = pgConnection.current()
    const target = client ? client.query.bind(client) : super.query.bind(this)
    return (target as (...a: unknown[]) => never)(...args)
  }

  override connect(...args: unknown[]): never {
    const client = pgConnection.current()
    if (client) return Promise.resolve(savepointClient(client)) as never
    return (super.connect as (...a: unknown[]) => never).apply(this, args)
  }

  /** Runs work in one transaction on one pooled connection. */
  readonly transaction: RunInTransaction = async (work) => {
    const client: pg.PoolClient = await (super.connect as () => Promise<pg.PoolClient>).call(this)
    let ended = false
    let broken: Error | undefined
    const run = async (text: string, params?: unknown[]) =>
      (await client.query({ text, values: toDriver(params), types: pgTypes })).rows
    const sql: Sql = {
      query: run,
      async queryAndCommit(text, params) {
        // pg sends the queued COMMIT from its socket handler as soon as the statement is done,
        // without waiting for this process to get round to it. After a failed statement that
        // COMMIT is a rollback; either way the transaction is over.
        const [last, commit] = await Promise.allSettled([run(text, params), client.query('COMMIT')])
        ended = true
        if (commit.status === 'rejected') throw (broken = commit.reason as Error)
        if (last.status === 'rejected') throw last.reason
        return last.value
      },
    }
    try {
      await client.query('BEGIN')
      const value = await pgConnection.run(client, () => work(sql))
      if (!ended) await client.query('COMMIT')
      return value
    } catch (error) {
      if (!ended) await client.query('ROLLBACK').catch((rollbackError: Error) => void (broken = rollbackError))
      throw error
    } finally {
      client.release(broken)
    }
  }
}

/** The unit's connection as a nested transaction sees it: BEGIN/COMMIT/ROLLBACK become savepoint commands. */
function savepointClient(client: pg.PoolClient): pg.PoolClient {
  const nested = {
    query(config: string | pg.QueryConfig, ...rest: unknown[]) {
      const text = typeof config === 'string' ? config : config.text
      return AS_SAVEPOINT[text]
        ? client.query(AS_SAVEPOINT[text])
        : (client.query as (...a: unknown[]) => unknown)(config, ...rest)
    },
    release() {},
    on() {},
    removeListener() {},
  }
  return nested as unknown as pg.PoolClient
}

// --- Embedded (PGlite) ---

const pgliteConnection = new UnitStorage<PGliteTransaction>()
const pgliteParsers = { [TIMESTAMP]: utcTimestamp, [INT8]: BigInt }

/** The PGlite instance as Prisma's adapter sees it: queries inside a unit of work run in its transaction. */
export function routedPGlite(instance: EmbeddedPGlite): PGlite {
  const current = () => pgliteConnection.current() ?? instance
  const routed = {
    query: (...args: Parameters<PGlite['query']>) => current().query(...args),
    exec: (...args: Parameters<PGlite['exec']>) => current().exec(...args),
    transaction: async <T>(callback: (tx: PGliteTransaction) => Promise<T>): Promise<T> => {
      const tx = pgliteConnection.current()
      return tx ? inSavepoint(tx, callback) : instance.transaction(callback)
    },
  }
  return routed as unknown as PGlite
}

/** Runs a nested PGlite transaction as a savepoint of the unit's (rolling back only to the savepoint). */
async function inSavepoint<T>(tx: PGliteTransaction, callback: (tx: PGliteTransaction) => Promise<T>): Promise<T> {
  let rolledBack = false
  const rollback = async () => {
    rolledBack = true
    await tx.exec(AS_SAVEPOINT.ROLLBACK)
  }
  await tx.exec(AS_SAVEPOINT.BEGIN)
  const result = await callback({ ...tx, rollback })
  if (!rolledBack) await tx.exec(AS_SAVEPOINT.COMMIT)
  return result
}

/** Runs work in one PGlite transaction (PGlite has one connection: transactions run one at a time). */
export function pgliteTransaction(instance: EmbeddedPGlite): RunInTransaction {
  return (work) =>
    instance.transaction((tx) => {
      const run = async <T>(text: string, params?: unknown[]) =>
        (await tx.query<T>(text, toDriver(params), { parsers: pgliteParsers })).rows
      // In-process: committing as the callback returns costs no round trip.
      return pgliteConnection.run(tx, () => work({ query: run, queryAndCommit: run }))
    })
}
