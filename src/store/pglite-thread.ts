import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { messages, type PGlite, type QueryOptions, type Results, type Transaction } from '@electric-sql/pglite'

/**
 * The embedded database on a thread of its own: PGlite runs in a worker thread
 * (pglite-thread-worker.cjs) and this is how the rest of the process sees it, with the part of
 * PGlite's interface we use. PGlite is WebAssembly that runs each statement to its end on the
 * thread that calls it; in the server's thread every statement stopped requests, SCIM calls and
 * subscription deliveries for its whole length. On its own thread it runs on the second core
 * while the server's JavaScript goes on.
 *
 * Statements of one transaction are sent in order without waiting for BEGIN, and the last one of a
 * unit of work carries its COMMIT, so a transaction costs no more round trips than statements.
 * Results are parsed on the database's thread, except for the types the caller brings parsers
 * for: those come as text and are parsed here (parsers are functions, which cannot cross threads).
 */
export type EmbeddedPGlite = Pick<PGlite, 'query' | 'exec' | 'transaction' | 'listen' | 'close' | 'closed'>

type Reply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { message: string } & Record<string, unknown> }
  | { notify: number; payload: string }

/** The data directory (none: in memory), and a dump file to start it from. */
export interface ThreadDatabase {
  dataDir?: string
  dump?: string
}

interface Pending {
  resolve(value: unknown): void
  reject(error: Error): void
}

/** Parsers by type OID, as PGlite's QueryOptions take them. */
type Parsers = Record<number, ((text: string, typeId: number) => unknown) | undefined>

/** A transaction on the thread: PGlite's, plus a last statement that commits. */
export type ThreadTransaction = Transaction & {
  queryAndCommit<T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>
}

const WORKER_FILE = path.join(__dirname, 'pglite-thread-worker.cjs')

export class PGliteThread implements EmbeddedPGlite {
  private readonly worker: Worker
  private readonly pending = new Map<number, Pending>()
  private readonly listeners = new Map<number, (payload: string) => void>()
  private nextId = 1
  private ended: Error | null = null

  private constructor(where: ThreadDatabase) {
    this.worker = new Worker(WORKER_FILE, { workerData: where })
    // Only a call in flight keeps the process alive, as a PGlite in this thread would.
    this.worker.unref()
    this.worker.on('message', (reply: Reply) => this.receive(reply))
    this.worker.on('error', (error) => this.fail(error))
    this.worker.on('exit', (code) => this.fail(new Error(`the embedded database's thread exited (code ${code})`)))
  }

  /** Starts the thread and opens the database in it. */
  static async open(where: ThreadDatabase): Promise<PGliteThread> {
    const thread = new PGliteThread(where)
    try {
      await thread.call({ op: 'ready' })
    } catch (error) {
      await thread.worker.terminate()
      throw error
    }
    return thread
  }

  get closed(): boolean {
    return this.ended !== null
  }

  query<T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> {
    return this.runQuery<T>(undefined, text, params, options)
  }

  exec(text: string): Promise<Results[]> {
    return this.call({ op: 'exec', text }) as Promise<Results[]>
  }

  async transaction<T>(callback: (tx: ThreadTransaction) => Promise<T>): Promise<T> {
    const tx = this.nextId++
    let open = true
    this.call({ op: 'begin', tx }).catch(() => {})
    const end = (commit: boolean) => {
      if (!open) return Promise.resolve()
      open = false
      return this.call({ op: 'end', tx, commit })
    }
    const transaction = {
      query: <R>(text: string, params?: unknown[], options?: QueryOptions) =>
        this.runQuery<R>(tx, text, params, options),
      exec: (text: string) => this.call({ op: 'exec', tx, text }) as Promise<Results[]>,
      // The unit of work's last statement, its COMMIT sent with it: nothing may follow (store/unit-connection.ts).
      queryAndCommit: <R>(text: string, params?: unknown[], options?: QueryOptions) => {
        open = false
        return this.runQuery<R>(tx, text, params, options, true)
      },
      rollback: async () => {
        await this.call({ op: 'rollback', tx })
        await end(false)
      },
      listen: () => Promise.reject(new Error('LISTEN inside a transaction is not supported')),
      get closed() {
        return !open
      },
    } as unknown as ThreadTransaction
    let result: T
    try {
      result = await callback(transaction)
    } catch (error) {
      await end(false).catch(() => {})
      throw error
    }
    await end(true)
    return result
  }

  async listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>> {
    const listener = this.nextId++
    this.listeners.set(listener, callback)
    await this.call({ op: 'listen', listener, channel })
    return async () => {
      this.listeners.delete(listener)
      if (!this.closed) await this.call({ op: 'unlisten', listener })
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.call({ op: 'close' })
    this.ended = new Error('the embedded database is closed')
    await this.worker.terminate()
  }

  private async runQuery<T>(
    tx: number | undefined,
    text: string,
    params: unknown[] | undefined,
    options: QueryOptions | undefined,
    commit = false,
  ): Promise<Results<T>> {
    const parsers = options?.parsers
    const ownParsers = parsers ? Object.keys(parsers).map(Number) : []
    const result = (await this.call({
      op: 'query',
      tx,
      text,
      params,
      rowMode: options?.rowMode,
      ownParsers,
      commit,
    })) as Results<T>
    if (parsers && ownParsers.length) parseOwnTypes(result, parsers as Parsers)
    return result
  }

  private call(message: Record<string, unknown>): Promise<unknown> {
    if (this.ended) return Promise.reject(this.ended)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref()
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ ...message, id })
    })
  }

  private receive(reply: Reply): void {
    if ('notify' in reply) {
      this.listeners.get(reply.notify)?.(reply.payload)
      return
    }
    const pending = this.pending.get(reply.id)
    if (!pending) return
    this.pending.delete(reply.id)
    if (this.pending.size === 0) this.worker.unref()
    if (reply.ok) pending.resolve(reply.value)
    else pending.reject(asError(reply.error))
  }

  private fail(error: Error): void {
    this.ended ??= error
    for (const pending of this.pending.values()) pending.reject(error)
    this.pending.clear()
  }
}

/** The error as PGlite would have thrown it: a DatabaseError (with its SQLSTATE code) when it is one. */
function asError({ message, ...fields }: { message: string } & Record<string, unknown>): Error {
  const error =
    fields.name === 'error' || typeof fields.code === 'string'
      ? new messages.DatabaseError(message, Number(fields.length ?? 0), 'error')
      : new Error(message)
  return Object.assign(error, fields)
}

/** Applies the caller's parsers to the columns of the types it brought them for (sent as text). */
function parseOwnTypes(result: Results<unknown>, parsers: Parsers): void {
  const columns = result.fields.flatMap((field, index) => {
    const parse = parsers[field.dataTypeID]
    return parse ? [{ index, name: field.name, type: field.dataTypeID, parse }] : []
  })
  if (columns.length === 0) return
  for (const row of result.rows as Record<string | number, unknown>[]) {
    for (const { index, name, type, parse } of columns) {
      const key = Array.isArray(row) ? index : name
      const value = row[key]
      if (typeof value === 'string') row[key] = parse(value, type)
    }
  }
}
