import 'reflect-metadata'
import { parseArgs } from 'node:util'
import { createProvisioningWorker, openApplication } from './app'
import type { ProvisioningWorker } from './provisioning/worker'
import { loadConfig, type Config } from './config'
import { SYSTEM_ACTOR } from './events/event-log'
import { startServer } from './server/app'
import { createLogger } from './logger'
import { runShutdown } from './server/shutdown'
import { openDatabase } from './store/database'
import { SCOPES } from './tokens/scopes'

const USAGE = `usage: lifecycle-gateway [start]
       lifecycle-gateway worker
       lifecycle-gateway migrate
       lifecycle-gateway token create --scopes users:read,users:manage [--name NAME]
       lifecycle-gateway token revoke <token-id>
scopes: ${SCOPES.join(', ')}`

async function start(config: Config) {
  const logger = createLogger(config.LOG_LEVEL)
  const application = await openApplication(config, logger, {
    onLockLost: (error) => {
      logger.fatal({ err: error }, 'another process took over the data directory: stopping at once')
      process.exit(1)
    },
  })
  const server = await startServer(application)
  const worker = createProvisioningWorker(application)
  await worker?.start()
  const bootstrap = await application.services.tokens.bootstrap(config.BOOTSTRAP_ADMIN_TOKEN, SYSTEM_ACTOR)
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    const signalled = Date.now()
    logger.info({ signal, timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutting down: finishing in-flight requests')
    const steps = [
      { name: 'HTTP and WebSocket drain', run: () => server.close() },
      ...workerStop(worker, signalled, config),
      { name: 'database close', run: () => application.close() },
    ]
    const succeeded = await runShutdown(steps, config.SHUTDOWN_TIMEOUT_MS, logger)
    logger.info({ shutdownMs: Date.now() - signalled }, 'shut down')
    process.exit(succeeded ? 0 : 1)
  }
  // Before announcing the server: a signal sent as soon as it is announced must find the handlers.
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
  const where = config.DATABASE_URL ? 'PostgreSQL' : `embedded database in ${config.DATA_DIR}`
  if (!worker) console.log('Provisioning worker off in this process (PROVISIONING_CONCURRENCY=0)')
  console.log(`Lifecycle Gateway serving ${server.url} (${where})`)
  if (server.metricsUrl) console.log(`Metrics: ${server.metricsUrl}`)
  console.log(`GraphiQL: open ${server.url} in a browser (or ${server.url.replace(/graphql$/, 'graphiql/')})`)
  if (bootstrap.created) {
    console.log(
      bootstrap.secret
        ? `Bootstrap admin token (shown once): ${bootstrap.secret}`
        : 'Bootstrap admin token: the value of BOOTSTRAP_ADMIN_TOKEN',
    )
  }
}

/**
 * Stopping a worker: in-flight requests get half the shutdown timeout to finish, the rest is
 * released to other workers, leaving time to close the database.
 */
function workerStop(worker: ProvisioningWorker | null, signalled: number, config: Config) {
  if (!worker) return []
  const deadline = new Date(signalled + config.SHUTDOWN_TIMEOUT_MS / 2)
  return [{ name: 'provisioning worker stop', run: () => worker.stop(deadline) }]
}

/** `npm run worker`: the provisioning worker alone, on the same composition root (no HTTP). */
async function worker(config: Config) {
  const logger = createLogger(config.LOG_LEVEL)
  if (config.PROVISIONING_CONCURRENCY === 0)
    throw new Error('PROVISIONING_CONCURRENCY is 0: the worker has nothing to do')
  const application = await openApplication(config, logger, {
    onLockLost: (error) => {
      logger.fatal({ err: error }, 'another process took over the data directory: stopping at once')
      process.exit(1)
    },
  })
  const provisioning = createProvisioningWorker(application)!
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    const signalled = Date.now()
    logger.info({ signal }, 'provisioning worker stopping')
    const steps = [
      ...workerStop(provisioning, signalled, config),
      { name: 'database close', run: () => application.close() },
    ]
    const succeeded = await runShutdown(steps, config.SHUTDOWN_TIMEOUT_MS, logger)
    process.exit(succeeded ? 0 : 1)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
  await provisioning.start()
  const where = config.DATABASE_URL ? 'PostgreSQL' : `embedded database in ${config.DATA_DIR}`
  console.log(`Lifecycle Gateway provisioning worker ${provisioning.id} running (${where})`)
}

async function token(config: Config, args: string[]) {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { scopes: { type: 'string' }, name: { type: 'string' } },
  })
  const [action, id] = positionals
  const application = await openApplication(config, createLogger(config.LOG_LEVEL))
  const { tokens } = application.services
  try {
    if (action === 'create') {
      const scopes = (values.scopes ?? '')
        .split(',')
        .map((scope) => scope.trim())
        .filter(Boolean)
      const issued = await tokens.create(values.name ?? 'cli token', scopes, SYSTEM_ACTOR)
      if (!issued.ok) throw new Error(issued.errors.map((error) => error.message).join('; '))
      console.log(
        `id:     ${issued.value.token.id}\nscopes: ${issued.value.token.scopes.join(',')}\ntoken:  ${issued.value.secret}`,
      )
    } else if (action === 'revoke' && id) {
      const revoked = await tokens.revoke(id, SYSTEM_ACTOR)
      if (!revoked.ok) throw new Error(revoked.errors.map((error) => error.message).join('; '))
      console.log(`revoked ${id}`)
    } else {
      throw new Error(USAGE)
    }
  } finally {
    await application.close()
  }
}

async function main(argv: string[]) {
  const config = loadConfig()
  const [command = 'start', ...rest] = argv
  if (command === 'start') return start(config)
  if (command === 'worker') return worker(config)
  if (command === 'migrate') {
    const db = await openDatabase(
      config.DATABASE_URL
        ? { kind: 'postgres', url: config.DATABASE_URL }
        : { kind: 'embedded', dataDir: config.DATA_DIR },
    )
    try {
      const report = await db.migrate()
      console.log(report.applied.length ? `applied: ${report.applied.join(', ')}` : 'database is up to date')
    } finally {
      await db.close()
    }
    return
  }
  if (command === 'token') return token(config, rest)
  throw new Error(USAGE)
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: Error) => {
    console.error(error.message)
    process.exit(1)
  })
}
