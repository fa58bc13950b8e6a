import { AppQueries } from './apps/app-queries'
import { AppService } from './apps/app-service'
import { followFacts } from './cascades/follow'
import type { Config } from './config'
import type { StoredEvent } from './events/event-log'
import { EventQueries } from './events/event-queries'
import { createTopics, publishCommitted, type PubSub } from './events/topics'
import { GroupQueries } from './groups/group-queries'
import { GroupRuleService } from './groups/group-rule-service'
import { GroupService } from './groups/group-service'
import type { Logger } from './logger'
import { ProvisioningService } from './provisioning/provisioning-service'
import { openDatabase, type Database, type DatabaseOptions } from './store/database'
import type { Services } from './services'
import type { Store } from './store/transaction'
import { TokenService } from './tokens/token-service'
import { UserQueries } from './users/user-queries'
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
  readonly services: Services
  /** Closes the database (servers and workers built on it stop first). */
  close(): Promise<void>
}

/** Wires the services on an open database. */
export function composeApplication(config: Config, db: Database, logger: Logger): Application {
  const pubSub = createTopics()
  // Units of work run on the database and follow their facts through the one cascade module.
  const store: Store = { prisma: db.prisma, transaction: db.transaction, followFacts }
  const publish = (events: StoredEvent[]) => publishCommitted(pubSub, events)
  const services: Services = {
    users: new UserService({ store, config, publish }),
    groups: new GroupService(store, publish),
    groupRules: new GroupRuleService(store, publish),
    apps: new AppService(store, publish),
    provisioning: new ProvisioningService(store, publish),
    appQueries: new AppQueries(db.prisma),
    groupQueries: new GroupQueries(db.prisma),
    userQueries: new UserQueries(db.prisma),
    events: new EventQueries(db.prisma),
    tokens: new TokenService(store, publish, config.TOKEN_CACHE_SECONDS * 1000),
  }
  return { config, logger, db, pubSub, services, close: () => db.close() }
}

/** Opens the configured database (PostgreSQL from DATABASE_URL, else embedded under DATA_DIR), migrates it and wires the services. */
export async function openApplication(
  config: Config,
  logger: Logger,
  options: DatabaseOptions = {},
): Promise<Application> {
  const db = await openDatabase(
    config.DATABASE_URL
      ? { kind: 'postgres', url: config.DATABASE_URL, poolSize: config.DATABASE_POOL_SIZE }
      : { kind: 'embedded', dataDir: config.DATA_DIR },
    options,
  )
  try {
    await db.migrate()
  } catch (error) {
    await db.close()
    throw error
  }
  return composeApplication(config, db, logger)
}
