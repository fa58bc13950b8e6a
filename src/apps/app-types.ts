import { Field, InputType, Int, ObjectType, registerEnumType } from 'type-graphql'
import type {
  AppGroupAssignment as AssignmentRow,
  AppUser as AppUserRow,
  App as AppRow,
} from '../generated/prisma/client'
import { connectionOf, PageInfo } from '../graphql/connection'
import { Node } from '../graphql/node'
import { entityPayload } from '../graphql/payload'
import { DateTime } from '../graphql/scalars'
import { Group } from '../groups/group-types'

const enumOf = <T extends string>(name: string, values: readonly T[], description?: string) => {
  const value = Object.fromEntries(values.map((entry) => [entry, entry])) as { [K in T]: K }
  registerEnumType(value, { name, description })
  return value
}

export const AppStatusEnum = enumOf('AppStatus', ['ACTIVE', 'INACTIVE'])
export const EnablementStatus = enumOf('EnablementStatus', ['ENABLED', 'DISABLED'])
export const AuthSchemeEnum = enumOf('ProvisioningAuthScheme', ['TOKEN'])
export const AppFeatureNameEnum = enumOf('AppFeatureName', ['USER_PROVISIONING', 'INBOUND_PROVISIONING'])
export const PasswordSeedEnum = enumOf(
  'PasswordSeed',
  ['OKTA', 'RANDOM'],
  "OKTA pushes the user's password; RANDOM (default) a random one.",
)
export const PasswordChangeEnum = enumOf('PasswordChangePolicy', ['KEEP_EXISTING', 'CHANGE'])
export const UsernameFormatEnum = enumOf('UsernameFormat', ['EMAIL', 'CUSTOM'])
export const MatchCriteriaEnum = enumOf('ExactMatchCriteria', ['EMAIL', 'USERNAME'])
export const AppUserStatusEnum = enumOf('AppUserStatus', [
  'STAGED',
  'PROVISIONED',
  'ACTIVE',
  'INACTIVE',
  'DEPROVISIONED',
])
export const SyncStateEnum = enumOf(
  'AppUserSyncState',
  ['DISABLED', 'OUT_OF_SYNC', 'SYNCING', 'SYNCHRONIZED', 'ERROR', 'HELD'],
  'HELD: a deactivation the deprovisioning guard holds until an administrator releases or discards it.',
)
export const AssignmentScopeEnum = enumOf('AssignmentScope', ['USER', 'GROUP'])

type Enablement = 'ENABLED' | 'DISABLED'

// Capability shapes serve as output types and, with an `Input` suffix, as the partial update input.
@ObjectType('CapabilityStatus', { simpleResolvers: true })
@InputType('CapabilityStatusInput')
export class CapabilityStatus {
  @Field(() => EnablementStatus, { nullable: true }) status?: Enablement | null
}

@ObjectType('PasswordCapability', { simpleResolvers: true })
@InputType('PasswordCapabilityInput')
export class PasswordCapability {
  @Field(() => EnablementStatus, { nullable: true }) status?: Enablement | null
  @Field(() => PasswordSeedEnum, { nullable: true }) seed?: 'OKTA' | 'RANDOM' | null
  @Field(() => PasswordChangeEnum, { nullable: true }) change?: 'KEEP_EXISTING' | 'CHANGE' | null
}

@ObjectType('CreateCapabilities', { simpleResolvers: true })
@InputType('CreateCapabilitiesInput')
export class CreateCapabilities {
  @Field(() => CapabilityStatus, { nullable: true }) lifecycleCreate?: CapabilityStatus | null
}

@ObjectType('UpdateCapabilities', { simpleResolvers: true })
@InputType('UpdateCapabilitiesInput')
export class UpdateCapabilities {
  @Field(() => CapabilityStatus, { nullable: true }) profile?: CapabilityStatus | null
  @Field(() => CapabilityStatus, { nullable: true }) lifecycleDeactivate?: CapabilityStatus | null
  @Field(() => PasswordCapability, { nullable: true }) password?: PasswordCapability | null
}

@ObjectType('UsernameSettings', { simpleResolvers: true })
@InputType('UsernameSettingsInput')
export class UsernameSettings {
  @Field(() => UsernameFormatEnum, { nullable: true }) usernameFormat?: 'EMAIL' | 'CUSTOM' | null
  @Field(() => String, { nullable: true }) userNameExpression?: string | null
}

@ObjectType('ImportSchedule', { simpleResolvers: true })
@InputType('ImportScheduleInput')
export class ImportSchedule {
  @Field(() => String, { nullable: true, description: 'UNIX cron expression.' }) expression?: string | null
  @Field(() => String, { nullable: true, description: 'IANA time zone.' }) timezone?: string | null
}

@ObjectType('ImportScheduleSettings', { simpleResolvers: true })
@InputType('ImportScheduleSettingsInput')
export class ImportScheduleSettings {
  @Field(() => EnablementStatus, { nullable: true }) status?: Enablement | null
  @Field(() => ImportSchedule, { nullable: true }) fullImport?: ImportSchedule | null
  @Field(() => ImportSchedule, { nullable: true }) incrementalImport?: ImportSchedule | null
}

@ObjectType('ImportSettings', { simpleResolvers: true })
@InputType('ImportSettingsInput')
export class ImportSettings {
  @Field(() => UsernameSettings, { nullable: true }) username?: UsernameSettings | null
  @Field(() => ImportScheduleSettings, { nullable: true }) schedule?: ImportScheduleSettings | null
}

@ObjectType('UserCreateAndMatch', { simpleResolvers: true })
@InputType('UserCreateAndMatchInput')
export class UserCreateAndMatch {
  @Field(() => MatchCriteriaEnum, { nullable: true }) exactMatchCriteria?: 'EMAIL' | 'USERNAME' | null
  @Field(() => Boolean, { nullable: true }) allowPartialMatch?: boolean | null
  @Field(() => Boolean, { nullable: true }) autoConfirmExactMatch?: boolean | null
  @Field(() => Boolean, { nullable: true }) autoConfirmPartialMatch?: boolean | null
  @Field(() => Boolean, { nullable: true }) autoConfirmNewUsers?: boolean | null
  @Field(() => Boolean, { nullable: true }) autoActivateNewUsers?: boolean | null
}

@ObjectType('ImportRules', { simpleResolvers: true })
@InputType('ImportRulesInput')
export class ImportRules {
  @Field(() => UserCreateAndMatch, { nullable: true }) userCreateAndMatch?: UserCreateAndMatch | null
}

@ObjectType('AppFeatureCapabilities', {
  simpleResolvers: true,
  description: 'USER_PROVISIONING has create and update; INBOUND_PROVISIONING has importSettings and importRules.',
})
@InputType('AppFeatureCapabilitiesInput', {
  description: "Shaped like Okta's PUT body; every part optional; a part of the other feature is a VALIDATION error.",
})
export class AppFeatureCapabilities {
  @Field(() => CreateCapabilities, { nullable: true }) create?: CreateCapabilities | null
  @Field(() => UpdateCapabilities, { nullable: true }) update?: UpdateCapabilities | null
  @Field(() => ImportSettings, { nullable: true }) importSettings?: ImportSettings | null
  @Field(() => ImportRules, { nullable: true }) importRules?: ImportRules | null
}

@ObjectType({ simpleResolvers: true })
export class AppFeature {
  @Field(() => AppFeatureNameEnum) name: string
  @Field(() => EnablementStatus) status: Enablement
  @Field(() => String) description: string
  @Field(() => AppFeatureCapabilities) capabilities: AppFeatureCapabilities
}

@ObjectType({
  simpleResolvers: true,
  description:
    'The blast-radius guard: deactivations past maxCount, or past maxPercent of the provisioned app users (apps with at least 100), within windowMinutes are held (syncState HELD) until released or discarded. Off when both limits are null.',
})
export class DeprovisioningGuard {
  @Field(() => Int, { nullable: true, description: 'Deactivations allowed per window; null: no count limit.' })
  maxCount: number | null
  @Field(() => Int, {
    nullable: true,
    description: 'Percentage of provisioned app users allowed per window (apps with at least 100); null: none.',
  })
  maxPercent: number | null
  @Field(() => Int) windowMinutes: number
}

@ObjectType({ simpleResolvers: true, description: 'The provisioning connection; its token is write-only.' })
export class AppProvisioning {
  @Field(() => EnablementStatus) status: Enablement
  @Field(() => String, { nullable: true }) baseUrl: string | null
  @Field(() => AuthSchemeEnum, { nullable: true }) authScheme: string | null
  @Field(() => Boolean, { description: 'Whether a token is stored (it is never returned).' }) hasToken: boolean
  @Field(() => Boolean, { description: 'Paused by an administrator (pauseProvisioning): queued work waits.' })
  paused: boolean
  @Field(() => DateTime, {
    nullable: true,
    description: 'Until when a downstream 429 holds the queue (Retry-After); null when it does not.',
  })
  rateLimitedUntil: Date | null
  @Field(() => DeprovisioningGuard) deprovisioningGuard: DeprovisioningGuard
}

/** An application; resolvers receive the stored row. */
@ObjectType({ implements: Node, simpleResolvers: true })
export class App extends Node {
  @Field(() => String, { description: 'The app\'s key, e.g. "slack".' }) name: string
  @Field(() => String) label: string
  @Field(() => AppStatusEnum) status: string
  @Field(() => String, { description: 'e.g. SAML_2_0, OPENID_CONNECT, BOOKMARK.' }) signOnMode: string
  @Field(() => DateTime) created: Date
  @Field(() => DateTime) lastUpdated: Date
}

export const AppConnection = connectionOf(App, 'App')

@ObjectType({ simpleResolvers: true })
export class ProvisioningError {
  @Field(() => String) summary: string
  @Field(() => [String]) causes: string[]
  @Field(() => DateTime) occurredAt: Date
  @Field(() => Int) attempts: number
}

@ObjectType({ simpleResolvers: true, description: 'One grant behind an app user: direct (USER) or through a group.' })
export class AssignmentGrant {
  @Field(() => AssignmentScopeEnum) scope: 'USER' | 'GROUP'
  @Field(() => Group, { nullable: true }) group: unknown
}

/** A user's assignment to an app; resolvers receive the stored row. */
@ObjectType({ implements: Node, simpleResolvers: true })
export class AppUser extends Node {
  @Field(() => AssignmentScopeEnum, { description: 'USER when directly assigned, else GROUP.' }) scope: string
  @Field(() => AppUserStatusEnum) status: string
  @Field(() => SyncStateEnum) syncState: string
  @Field(() => String, { nullable: true, description: 'The downstream account id, once provisioned.' }) externalId:
    string | null
  @Field(() => DateTime, { nullable: true }) lastSync: Date | null
  @Field(() => DateTime, { nullable: true }) statusChanged: Date | null
  @Field(() => DateTime) created: Date
  @Field(() => DateTime) lastUpdated: Date
}

export const AppUserConnection = connectionOf(AppUser, 'AppUser')

/** A group assigned to an app: the edge carries the assignment's priority (lower wins). */
function assignmentConnection<T extends object>(name: string, node: new () => T) {
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class Edge {
    @Field(() => String) cursor: string
    @Field(() => Int, { description: 'Lower numbers take precedence when several groups grant the app.' })
    priority: number
    @Field(() => node) node: T
  }
  @ObjectType(`${name}Connection`, { simpleResolvers: true })
  class Connection {
    @Field(() => [Edge]) edges: Edge[]
    @Field(() => PageInfo) pageInfo: PageInfo
    @Field(() => Int) totalCount: number
    @Field(() => Boolean, { description: 'Always false: assignments are counted exactly.' })
    totalCountIsEstimate: boolean
  }
  return Connection
}

export const AppGroupConnection = assignmentConnection('AppGroup', Group)
export const GroupAppConnection = assignmentConnection('GroupApp', App)

export type { AppRow, AppUserRow, AssignmentRow }

export const CreateAppPayload = entityPayload('CreateApp', 'app', App)
export const UpdateAppPayload = entityPayload('UpdateApp', 'app', App)
export const ActivateAppPayload = entityPayload('ActivateApp', 'app', App)
export const DeactivateAppPayload = entityPayload('DeactivateApp', 'app', App)
export const DeleteAppPayload = entityPayload('DeleteApp', 'app', App)
export const UpdateProvisioningConnectionPayload = entityPayload('UpdateProvisioningConnection', 'app', App)
export const UpdateAppFeaturePayload = entityPayload('UpdateAppFeature', 'feature', AppFeature)
export const AssignUserToAppPayload = entityPayload('AssignUserToApp', 'appUser', AppUser)
export const UnassignUserFromAppPayload = entityPayload('UnassignUserFromApp', 'appUser', AppUser)
