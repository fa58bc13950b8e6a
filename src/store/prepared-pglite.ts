import { parse, protocol, type PGlite, type QueryOptions, type Results, type Transaction } from '@electric-sql/pglite'

/**
 * The embedded database with its statements prepared once and run by name. PGlite's own query()
 * parses, analyses and plans every statement again, in six calls into the database (parse,
 * describe, bind, describe, execute, sync); a prepared statement is bound and executed in one.
 * Plans are still made for each run's values (`plan_cache_mode = force_custom_plan`): a generic
 * plan, which PostgreSQL may settle on after five runs, made the provisioning claim ten times slower.
 *
 * Statements are kept by SQL text, least recently used first, and bounded: an evicted one is
 * closed with the next preparation. A statement whose table changed shape since it was prepared
 * (a migration) fails with "cached plan must not change result type": outside a transaction it is
 * prepared anew and run once more; inside one the error aborts the transaction, as on PostgreSQL.
 */
export type EmbeddedPGlite = Pick<PGlite, 'query' | 'exec' | 'transaction' | 'listen' | 'close' | 'closed'>

const MAX_PREPARED = 500
const { serialize } = protocol

interface Prepared {
  name: string
  paramTypes: number[]
}

const isStale = (error: unknown) =>
  (error as { code?: string } | null)?.code === '0A000' && /cached plan/.test(String((error as Error).message))

function concat(parts: Uint8Array[]): Uint8Array {
  const message = new Uint8Array(parts.reduce((length, part) => length + part.length, 0))
  let offset = 0
  for (const part of parts) {
    message.set(part, offset)
    offset += part.length
  }
  return message
}

/** PGlite's interface, with query() (outside and inside transactions) running prepared statements. */
export async function preparedPGlite(db: PGlite): Promise<EmbeddedPGlite> {
  await db.waitReady
  await db.exec('SET plan_cache_mode = force_custom_plan')
  const prepared = new Map<string, Prepared>()
  let count = 0
  let toClose: string[] = []

  const prepare = async (text: string): Promise<Prepared> => {
    const known = prepared.get(text)
    if (known) {
      prepared.delete(text)
      prepared.set(text, known)
      return known
    }
    const name = `lg_${++count}`
    const closing = toClose.map((old) => serialize.close({ type: 'S', name: old }))
    toClose = []
    const described = await db.execProtocolStream(
      concat([...closing, serialize.parse({ name, text }), serialize.describe({ type: 'S', name }), serialize.sync()]),
      { syncToFs: false },
    )
    const statement = { name, paramTypes: parse.parseDescribeStatementResults(described) }
    prepared.set(text, statement)
    if (prepared.size > MAX_PREPARED) {
      const [oldest, { name: evicted }] = prepared.entries().next().value as [string, Prepared]
      prepared.delete(oldest)
      toClose.push(evicted)
    }
    return statement
  }

  /** One exchange: bind the prepared statement, describe and execute it, sync. */
  const run = async <T>(text: string, params: unknown[] = [], options: QueryOptions = {}, inTransaction: boolean) => {
    const statement = await prepare(text)
    const values = params.map((param, index) => {
      if (param === null || param === undefined) return null
      const serializer = db.serializers[statement.paramTypes[index]]
      return serializer ? serializer(param) : String(param)
    })
    try {
      const messages = await db.execProtocolStream(
        concat([
          serialize.bind({ statement: statement.name, values: values as string[] }),
          serialize.describe({ type: 'P' }),
          serialize.execute({}),
          serialize.sync(),
        ]),
        { syncToFs: !inTransaction },
      )
      return parse.parseResults(messages, db.parsers, options)[0] as Results<T>
    } catch (error) {
      if (isStale(error)) {
        prepared.delete(text)
        toClose.push(statement.name)
      }
      throw error
    }
  }

  const query = async <T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> => {
    // As PGlite's query(): a closed database says so (its backend is gone: sending to it fails obscurely).
    await db._checkReady()
    const once = () => db._runExclusiveQuery(() => run<T>(text, params, options, false))
    return db._runExclusiveTransaction(() => once().catch((error) => (isStale(error) ? once() : Promise.reject(error))))
  }

  const transaction = <T>(callback: (tx: Transaction) => Promise<T>): Promise<T> =>
    db.transaction((tx) => {
      const inTransaction = { ...tx }
      Object.defineProperty(inTransaction, 'closed', { get: () => tx.closed })
      inTransaction.query = <R>(text: string, params?: unknown[], options?: QueryOptions) => {
        if (tx.closed) return Promise.reject(new Error('Transaction is closed'))
        return db._runExclusiveQuery(() => run<R>(text, params, options, true))
      }
      return callback(inTransaction)
    })

  return {
    query,
    exec: (text, options) => db.exec(text, options),
    transaction,
    listen: (channel, callback, tx) => db.listen(channel, callback, tx),
    close: () => db.close(),
    get closed() {
      return db.closed
    },
  } as EmbeddedPGlite
}
