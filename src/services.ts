import { AppQueries } from './apps/app-queries'
import { AppService } from './apps/app-service'
import type { Config } from './config'
import { GroupQueries } from './groups/group-queries'
import { GroupRuleService } from './groups/group-rule-service'
import { GroupService } from './groups/group-service'
import type { StoredEvent } from './events/event-log'
import { EventQueries } from './events/event-queries'
import { publishCommitted, type PubSub } from './events/topics'
import type { Database } from './store/database'
import { TokenService } from './tokens/token-service'
import { UserQueries } from './users/user-queries'
import { UserService } from './users/user-service'

/** The application's use cases, wired once per process. */
export interface Services {
  users: UserService
  groups: GroupService
  groupRules: GroupRuleService
  apps: AppService
  appQueries: AppQueries
  groupQueries: GroupQueries
  userQueries: UserQueries
  events: EventQueries
  tokens: TokenService
}

export function createServices(db: Database, config: Config, pubSub: PubSub): Services {
  const publish = (events: StoredEvent[]) => publishCommitted(pubSub, events)
  return {
    users: new UserService({ store: db, config, publish }),
    groups: new GroupService(db, publish),
    groupRules: new GroupRuleService(db, publish),
    apps: new AppService(db, publish),
    appQueries: new AppQueries(db.prisma),
    groupQueries: new GroupQueries(db.prisma),
    userQueries: new UserQueries(db.prisma),
    events: new EventQueries(db.prisma),
    tokens: new TokenService(db, publish, config.TOKEN_CACHE_SECONDS * 1000),
  }
}
