// The embedded database's thread (pglite-thread.ts starts it): PGlite runs here, so that its
// statements (WebAssembly, CPU-bound) run beside the server's JavaScript instead of between it.
// Plain JavaScript: a worker thread needs a file Node can run as it is, under tsc and Jest alike.
'use strict'
const fs = require('node:fs')
const { parentPort, workerData } = require('node:worker_threads')
const { PGlite, parse, protocol } = require('@electric-sql/pglite')
const { serialize } = protocol

/** Rolls a transaction back without it being an error of the thread's own. */
const ROLLBACK = Symbol('rollback')
/** Leaves a column's text as it came: the caller parses it with a parser of its own. */
const asText = (text) => text
/** What an error carries over the thread boundary (PGlite's DatabaseError fields; never its query's parsers). */
const ERROR_FIELDS = [
  'name',
  'length',
  'severity',
  'code',
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
]

const { dataDir, dump } = workerData
const db = new PGlite({ dataDir, ...(dump && { loadDataDir: new Blob([fs.readFileSync(dump)]) }) })
/** Open transactions by the id the main thread gave them. */
const transactions = new Map()
/** Stops listening, by listener id. */
const listeners = new Map()

/**
 * Statements prepared once and executed by name, by SQL text, least recently used first. PGlite's
 * own query() parses, analyses and plans every statement again, in six calls into the database;
 * a prepared one is bound and executed in one. Bounded: an evicted statement is closed with the
 * next one's exchange.
 */
const prepared = new Map()
const MAX_PREPARED = 500
let preparedCount = 0
let toClose = []
/** PostgreSQL's "cached plan must not change result type": a table a prepared statement reads has changed. */
const isStale = (error) => Boolean(error) && error.code === '0A000' && /cached plan/.test(error.message)

const concat = (parts) => {
  const message = new Uint8Array(parts.reduce((length, part) => length + part.length, 0))
  let offset = 0
  for (const part of parts) {
    message.set(part, offset)
    offset += part.length
  }
  return message
}

/** Prepares `text` (once) and runs it with `params`: one exchange with the database once prepared. */
async function runPrepared(text, params, options, inTransaction) {
  let statement = prepared.get(text)
  if (statement) {
    prepared.delete(text)
    prepared.set(text, statement)
  } else {
    const name = `lg_${++preparedCount}`
    const closing = toClose.map((old) => serialize.close({ type: 'S', name: old }))
    toClose = []
    const described = await db.execProtocolStream(
      concat([...closing, serialize.parse({ name, text }), serialize.describe({ type: 'S', name }), serialize.sync()]),
      { syncToFs: false },
    )
    statement = { name, paramTypes: parse.parseDescribeStatementResults(described) }
    prepared.set(text, statement)
    if (prepared.size > MAX_PREPARED) {
      const [oldest, { name: old }] = prepared.entries().next().value
      prepared.delete(oldest)
      toClose.push(old)
    }
  }
  const values = (params ?? []).map((param, index) => {
    if (param === null || param === undefined) return null
    const serializer = db.serializers[statement.paramTypes[index]]
    return serializer ? serializer(param) : param.toString()
  })
  try {
    const messages = await db.execProtocolStream(
      concat([
        serialize.bind({ statement: statement.name, values }),
        serialize.describe({ type: 'P' }),
        serialize.execute({}),
        serialize.sync(),
      ]),
      { syncToFs: !inTransaction },
    )
    return parse.parseResults(messages, db.parsers, options)[0]
  } catch (error) {
    if (isStale(error)) {
      prepared.delete(text)
      toClose.push(statement.name)
    }
    throw error
  }
}

function serializeError(error) {
  const serialized = { message: error instanceof Error ? error.message : String(error) }
  for (const field of ERROR_FIELDS) if (error && error[field] !== undefined) serialized[field] = error[field]
  return serialized
}

function begin(id) {
  let opened
  let finish
  const gate = new Promise((resolve, reject) => (finish = (commit) => (commit ? resolve() : reject(ROLLBACK))))
  const done = db
    .transaction(async (tx) => {
      opened(tx)
      await gate
    })
    .catch((error) => {
      if (error !== ROLLBACK) throw error
    })
  // A transaction that fails to open (a closed database) fails the statements sent into it.
  const ready = new Promise((resolve, reject) => {
    opened = resolve
    done.catch(reject)
  })
  ready.catch(() => {})
  transactions.set(id, { ready, finish, done })
}

async function end(id, commit) {
  const transaction = transactions.get(id)
  if (!transaction) return
  transactions.delete(id)
  transaction.finish(commit)
  await transaction.done
}

async function query({ tx, text, params, rowMode, ownParsers, commit }) {
  const parsers = ownParsers.length ? Object.fromEntries(ownParsers.map((type) => [type, asText])) : undefined
  const options = { rowMode, parsers }
  if (tx !== undefined) await transactions.get(tx).ready
  const once = () => db._runExclusiveQuery(() => runPrepared(text, params, options, tx !== undefined))
  // Outside a transaction a statement whose plan went stale (a migration changed its table) is
  // prepared again and run once more; inside one the error aborts the transaction, as on PostgreSQL.
  const run = () =>
    tx === undefined ? once().catch((error) => (isStale(error) ? once() : Promise.reject(error))) : once()
  let result
  try {
    result = tx === undefined ? await db._runExclusiveTransaction(run) : await run()
  } catch (error) {
    if (commit) await end(tx, false)
    throw error
  }
  if (commit) await end(tx, true)
  return { rows: result.rows, fields: result.fields, affectedRows: result.affectedRows }
}

async function exec({ tx, text }) {
  const target = tx === undefined ? db : await transactions.get(tx).ready
  return (await target.exec(text)).map((result) => ({
    rows: result.rows,
    fields: result.fields,
    affectedRows: result.affectedRows,
  }))
}

async function listen({ listener, channel }) {
  const stop = await db.listen(channel, (payload) => parentPort.postMessage({ notify: listener, payload }))
  listeners.set(listener, stop)
}

async function unlisten({ listener }) {
  const stop = listeners.get(listener)
  listeners.delete(listener)
  if (stop) await stop()
}

const operations = {
  // Prepared statements are still planned for their values each time: a generic plan, which
  // PostgreSQL may settle on after five runs, was ten times slower for some (the job claim).
  ready: async () => {
    await db.waitReady
    await db.exec('SET plan_cache_mode = force_custom_plan')
  },
  begin: ({ tx }) => begin(tx),
  query,
  exec,
  rollback: async ({ tx }) => (await transactions.get(tx).ready).rollback(),
  end: ({ tx, commit }) => end(tx, commit),
  listen,
  unlisten,
  close: () => db.close(),
}

parentPort.on('message', (message) => {
  Promise.resolve()
    .then(() => operations[message.op](message))
    .then(
      (value) => parentPort.postMessage({ id: message.id, ok: true, value }),
      (error) => parentPort.postMessage({ id: message.id, ok: false, error: serializeError(error) }),
    )
})
