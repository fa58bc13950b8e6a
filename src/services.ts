import type { AppQueries } from './apps/app-queries'
import type { AppService } from './apps/app-service'
import type { EventQueries } from './events/event-queries'
import type { GroupQueries } from './groups/group-queries'
import type { GroupRuleService } from './groups/group-rule-service'
import type { GroupService } from './groups/group-service'
import type { ImportService } from './provisioning/import-service'
import type { PlanQueries } from './provisioning/plan-queries'
import type { ProvisioningService } from './provisioning/provisioning-service'
import type { Counters } from './store/counters'
import type { TokenService } from './tokens/token-service'
import type { UserQueries } from './users/user-queries'
import type { UserService } from './users/user-service'

/** The application's use cases and queries, wired once per process by the composition root (src/app.ts). */
export interface Services {
  users: UserService
  groups: GroupService
  groupRules: GroupRuleService
  apps: AppService
  provisioning: ProvisioningService
  imports: ImportService
  plans: PlanQueries
  appQueries: AppQueries
  groupQueries: GroupQueries
  userQueries: UserQueries
  events: EventQueries
  tokens: TokenService
  /** Counts kept by the database (users per status, app users per app and state, group members). */
  counters: Counters
}
