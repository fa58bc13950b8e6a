import { AppQueries } from './apps/app-queries'
import { AppService } from './apps/app-service'
import { followFactsWith } from './cascades/follow'
import type { Config } from './config'
import type { StoredEvent } from './events/event-log'
import { EventQueries } from './events/event-queries'
import { EventStreams } from './events/event-stream'
import { EventRelay } from './events/relay'
import { createTopics, publishAppUserChange, type PubSub } from './events/topics'
import { GroupQueries } from './groups/group-queries'
import { GroupRuleService } from './groups/group-rule-service'
import { GroupService } from './groups/group-service'
import type { Logger } from './logger'
import { createMetrics, type Metrics } from './server/observability'
import { ProvisioningWorker, type WorkerDependencies, type WorkerSettings } from './provisioning/worker'
import { sealStoredTokens } from './provisioning/seal-stored-tokens'
import { ephemeralBox, loadSecretBox, type SecretBox } from './provisioning/secrets'
import { ImportService } from './provisioning/import-service'
import { PlanQueries } from './provisioning/plan-queries'
import { ProvisioningService } from './provisioning/provisioning-service'
import { openDatabase, type Database, type DatabaseOptions } from './store/database'
import type { Services } from './services'
import type { Store } from './store/transaction'
import { TokenService } from './tokens/token-service'
import { UserQueries } from './users/user-queries'
import { Counters } from './store/counters'
import { UserService } from './users/user-service'

/**
 * The composition root: one process's database, topics and services, wired once. The HTTP server
 * (server/app.ts), the command line (main.ts) and workers all start from an Application, so
 * nothing re-wires services by hand.
 */
export interface Application {
  readonly config: Config
  readonly logger: Logger
  readonly db: Database
  readonly pubSub: PubSub
  /** Publishes committed events, of this process and (once started) of every other, to pubSub. */
  readonly relay: EventRelay
  /** Subscriptions' streams: replay after a cursor, then live from the relay. */
  readonly streams: EventStreams
  readonly services: Services
  /** This process's Prometheus metrics (served by the HTTP server, fed by the worker too). */
  readonly metrics: Metrics
  /** What units of work run on (the services' and the provisioning worker's). */
  readonly store: Store
  /** Seals and opens the secrets we store (connection tokens, passwords awaiting a push). */
  readonly secrets: SecretBox
  /** Closes the database (servers and workers built on it stop first). */
  close(): Promise<void>
}

/** Wires the services on an open database; tests and benches may leave secrets to a key of this process only. */
export function composeApplication(
  config: Config,
  db: Database,
  logger: Logger,
  secrets: SecretBox = ephemeralBox(),
): Application {
  const pubSub = createTopics()
  const relay = new EventRelay({ db, pubSub, pollMs: config.EVENT_RELAY_POLL_MS, logger })
  // Units of work run on the database and follow their facts through the one cascade module.
  const store: Store = { prisma: db.prisma, transaction: db.transaction, followFacts: followFactsWith({ secrets }) }
  const publish = (events: StoredEvent[]) => relay.committed(events)
  const counters = new Counters(db.prisma, logger)
  const services: Services = {
    users: new UserService({ store, config, publish }),
    groups: new GroupService(store, publish),
    groupRules: new GroupRuleService(store, publish),
    apps: new AppService(store, publish, secrets),
    provisioning: new ProvisioningService(store, publish),
    imports: new ImportService(store, publish, secrets, config.PROVISIONING_TIMEOUT_SECONDS * 1000),
    plans: new PlanQueries(db.prisma, secrets, config.PROVISIONING_TIMEOUT_SECONDS * 1000),
    appQueries: new AppQueries(db.prisma),
    groupQueries: new GroupQueries(db.prisma),
    userQueries: new UserQueries(db.prisma, counters),
    counters,
    events: new EventQueries(db.prisma),
    tokens: new TokenService(store, publish, config.TOKEN_CACHE_SECONDS * 1000),
  }
  // A token revoked by any process stops working here as soon as the relay reads its event.
  pubSub.listen('LIFECYCLE_EVENT', (event) => {
    if (event.type === 'system.api_token.revoke' && event.targetId) services.tokens.forgetRevoked(event.targetId)
  })
  return {
    config,
    logger,
    db,
    pubSub,
    relay,
    streams: new EventStreams({ prisma: db.prisma, pubSub, relay, bufferSize: config.SUBSCRIPTION_BUFFER }),
    services,
    store,
    secrets,
    metrics: createMetrics(db),
    async close() {
      await relay.stop()
      await db.close()
    },
  }
}

/**
 * The provisioning worker of this process, per PROVISIONING_* settings, or null when
 * PROVISIONING_CONCURRENCY is 0. Not started: the caller starts and stops it.
 */
export function createProvisioningWorker(
  application: Application,
  overrides: Partial<WorkerSettings> & Pick<WorkerDependencies, 'now' | 'random'> = {},
): ProvisioningWorker | null {
  const { config, db, logger, pubSub, relay } = application
  const { now, random, ...settings } = overrides
  const resolved: WorkerSettings = {
    concurrency: config.PROVISIONING_CONCURRENCY,
    perApp: config.PROVISIONING_CONCURRENCY_PER_APP,
    leaseSeconds: config.PROVISIONING_LEASE_SECONDS,
    maxAttempts: config.PROVISIONING_MAX_ATTEMPTS,
    timeoutMs: config.PROVISIONING_TIMEOUT_SECONDS * 1000,
    pollMs: config.PROVISIONING_POLL_MS,
    ...settings,
  }
  if (resolved.concurrency === 0) return null
  return new ProvisioningWorker({
    db,
    store: application.store,
    publish: (events) => relay.committed(events),
    secrets: application.secrets,
    // The worker marks SYNCING only OUT_OF_SYNC app users (readMarkingSyncing), so that is where each one came from.
    onSyncing: (appUsers) =>
      appUsers.forEach((row) =>
        publishAppUserChange(pubSub, {
          appUserId: row.id,
          appId: row.appId,
          userId: row.userId,
          previousStatus: row.status,
          status: row.status,
          previousSyncState: 'OUT_OF_SYNC',
          syncState: 'SYNCING',
        }),
      ),
    onAttempt: (appId, attempt) => application.metrics.provisioning.attempt(appId, attempt),
    logger,
    settings: resolved,
    now,
    random,
  })
}

/**
 * Opens the configured database (PostgreSQL from DATABASE_URL, else embedded under DATA_DIR), migrates it,
 * seals the connection tokens still stored in clear and wires the services.
 */
export async function openApplication(
  config: Config,
  logger: Logger,
  options: DatabaseOptions = {},
): Promise<Application> {
  const secrets = loadSecretBox(config, logger)
  const db = await openDatabase(
    config.DATABASE_URL
      ? { kind: 'postgres', url: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE }
      : { kind: 'embedded', dataDir: config.DATA_DIR },
    options,
  )
  try {
    await db.migrate()
    const sealed = await sealStoredTokens(db.transaction, secrets)
    if (sealed > 0) logger.info({ sealed }, 'sealed provisioning connection tokens stored in clear')
  } catch (error) {
    await db.close()
    throw error
  }
  return composeApplication(config, db, logger, secrets)
}
