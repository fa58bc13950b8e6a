import 'reflect-metadata'
import { createClient, type Client } from 'graphql-ws'
import WebSocket from 'ws'
import { composeApplication, createProvisioningWorker } from '../../src/app'
import { loadConfig, type Config } from '../../src/config'
import { SYSTEM_ACTOR } from '../../src/events/event-log'
import type { ProvisioningWorker } from '../../src/provisioning/worker'
import { startServer, type RunningServer } from '../../src/server/app'
import { createLogger } from '../../src/logger'
import type { SecretBox } from '../../src/provisioning/secrets'
import { SCOPES } from '../../src/tokens/scopes'
import { freshDatabase, type TestDatabase } from './backend'

export interface GraphQLResponse<T = any> {
  status: number
  headers: Headers
  data?: T
  errors?: { message: string; extensions?: { code?: string; field?: string[] } }[]
}

export interface TestServer {
  server: RunningServer
  database: TestDatabase
  /** The provisioning worker, when the server was started with one. */
  worker: ProvisioningWorker | null
  /** Every SQL statement sent since start (only with `recordSql`). */
  sql: string[]
  url: string
  /** A token with every scope. */
  adminToken: string
  /** POST a GraphQL request (with the admin token unless another is given, or none with null). */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GraphQLResponse<T>>
  /** A token carrying exactly these scopes. */
  tokenWith(...scopes: string[]): Promise<string>
  /** A graphql-ws client authenticated with the given token (admin by default). */
  wsClient(token?: string | null): Client
  /** Terminates every open WebSocket on the server's side without a close handshake (a cut network). */
  cutWebSockets(): number
  close(): Promise<void>
}

/** Starts the real server (HTTP + WebSocket) on a fresh database and a free port. */
export async function startTestServer(
  env: Record<string, string> = {},
  options: {
    recordSql?: boolean
    logLines?: string[]
    secrets?: SecretBox
    /** Runs a provisioning worker in the server's process, with these settings over the config's. */
    provisioning?: Parameters<typeof createProvisioningWorker>[1]
  } = {},
): Promise<TestServer> {
  const sql: string[] = []
  // The event relay's reads of the log (after a NOTIFY or a reconnect) are background work: they
  // would land inside a measured request at random, so they are not recorded.
  const relayRead = '"public"."LifecycleEvent"."sequence" > $1 ORDER BY "public"."LifecycleEvent"."sequence" ASC'
  const record = (statement: string) => void (statement.includes(relayRead) || sql.push(statement))
  const database = await freshDatabase(options.recordSql ? { onQuery: record } : {})
  const config: Config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MINUTE: '0',
    // Compiled execution is the default; the suite also runs on graphql-js: COMPILED_EXECUTION=false npm test
    ...(process.env.COMPILED_EXECUTION ? { COMPILED_EXECUTION: process.env.COMPILED_EXECUTION } : {}),
    // A test that records SQL measures what requests send: the event relay's poll of the log is
    // background work that would land inside a measured request at random.
    ...(options.recordSql ? { EVENT_RELAY_POLL_MS: '3600000' } : {}),
    ...env,
  })
  const logs = options.logLines
  const logger = logs
    ? createLogger('info', { write: (line: string) => void logs.push(line) })
    : createLogger(config.LOG_LEVEL)
  const application = composeApplication(config, database.db, logger, options.secrets)
  const server = await startServer(application)
  const worker = options.provisioning ? createProvisioningWorker(application, options.provisioning) : null
  await worker?.start()
  const clients: Client[] = []

  const tokenWith = async (...scopes: string[]) => {
    const issued = await server.services.tokens.create('test token', scopes, SYSTEM_ACTOR)
    if (!issued.ok) throw new Error(issued.errors[0].message)
    return issued.value.secret
  }
  const adminToken = await tokenWith(...SCOPES)

  return {
    server,
    database,
    worker,
    sql,
    url: server.url,
    adminToken,
    tokenWith,
    async gql(query, variables, token = adminToken) {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      })
      const body = (await response.json()) as { data?: any; errors?: any[] }
      return { status: response.status, headers: response.headers, ...body }
    },
    wsClient(token = adminToken) {
      const client = createClient({
        url: server.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: token ? { authorization: `Bearer ${token}` } : {},
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => {}, // connection failures reach the subscribers' error callbacks
      })
      clients.push(client)
      return client
    },
    cutWebSockets() {
      const sockets = [...server.webSockets]
      for (const socket of sockets) socket.terminate()
      return sockets.length
    },
    async close() {
      await Promise.all(clients.map((client) => client.dispose()))
      await worker?.stop(new Date(Date.now() + 5_000))
      await server.close()
      await database.drop()
    },
  }
}

/** Collects the next `count` results of a subscription. */
export function nextResults<T = any>(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
  count = 1,
) {
  const results: T[] = []
  let unsubscribe = () => {}
  const done = new Promise<T[]>((resolve, reject) => {
    unsubscribe = client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          results.push(value as T)
          if (results.length === count) resolve(results)
        },
        error: reject,
        complete: () => resolve(results),
      },
    )
  })
  return { done: done.finally(() => unsubscribe()), unsubscribe: () => unsubscribe() }
}
