import {
  ArrayMaxSize,
  IsIn,
  IsInt,
  IsOptional,
  IsUrl,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator'
import { Field, ID, InputType, Int } from 'type-graphql'
import { NotBlank } from '../graphql/validation'
import {
  AppFeatureCapabilities,
  AppFeatureNameEnum,
  AppStatusEnum,
  AppUserStatusEnum,
  AuthSchemeEnum,
  EnablementStatus,
  SyncStateEnum,
} from './app-types'
import type { AppUserStatus, SyncState } from './app-user-rules'

const SIGN_ON_MODES = [
  'BOOKMARK',
  'BASIC_AUTH',
  'BROWSER_PLUGIN',
  'SECURE_PASSWORD_STORE',
  'SAML_2_0',
  'WS_FEDERATION',
  'AUTO_LOGIN',
  'OPENID_CONNECT',
  'SAML_1_1',
]

@InputType()
export class AppFilter {
  @Field(() => String, { nullable: true, description: 'Prefix of the label or name (case-insensitive).' })
  @IsOptional()
  @MaxLength(255)
  q?: string | null
  @Field(() => [AppStatusEnum], { nullable: true }) status?: ('ACTIVE' | 'INACTIVE')[] | null
}

@InputType()
export class AppUserFilter {
  @Field(() => [AppUserStatusEnum], { nullable: true, description: 'Any of these statuses.' })
  @IsOptional()
  @ArrayMaxSize(Object.keys(AppUserStatusEnum).length)
  status?: AppUserStatus[] | null

  @Field(() => [SyncStateEnum], { nullable: true, description: 'Any of these sync states, e.g. ERROR.' })
  @IsOptional()
  @ArrayMaxSize(Object.keys(SyncStateEnum).length)
  syncState?: SyncState[] | null
}

@InputType()
export class CreateAppInput {
  @Field(() => String, { description: 'The app\'s key, e.g. "slack".' }) @NotBlank() @MaxLength(255) name: string
  @Field(() => String) @NotBlank() @MaxLength(255) label: string
  @Field(() => String, { defaultValue: 'SAML_2_0', description: `One of ${SIGN_ON_MODES.join(', ')}.` })
  @IsIn(SIGN_ON_MODES, { message: `signOnMode must be one of ${SIGN_ON_MODES.join(', ')}` })
  signOnMode: string
}

@InputType()
export class UpdateAppInput {
  @Field(() => ID) id: string
  @Field(() => String, { nullable: true }) @IsOptional() @NotBlank() @MaxLength(255) label?: string | null
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsIn(SIGN_ON_MODES, { message: `signOnMode must be one of ${SIGN_ON_MODES.join(', ')}` })
  signOnMode?: string | null
}

@InputType()
export class AppIdInput {
  @Field(() => ID) id: string
}

/** Each field optional: omitted keeps the current value; null turns a limit off (windowMinutes cannot be null). */
@InputType()
export class DeprovisioningGuardInput {
  @Field(() => Int, { nullable: true, description: 'Deactivations allowed per window; null: no count limit.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  maxCount?: number | null
  @Field(() => Int, { nullable: true, description: 'Percent of provisioned app users (0-100); null: none.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  maxPercent?: number | null
  @Field(() => Int, { nullable: true, description: 'The window the limits count in, 1 to 10080 minutes.' })
  @ValidateIf((_, value) => value !== undefined)
  @IsInt({ message: 'windowMinutes must be a whole number of minutes' })
  @Min(1)
  @Max(10_080)
  windowMinutes?: number | null
}

@InputType()
export class UpdateProvisioningConnectionInput {
  @Field(() => ID) appId: string
  @Field(() => String, { nullable: true, description: 'SCIM 2.0 base URL of the downstream app.' })
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] }, { message: 'baseUrl must be an http(s) URL' })
  baseUrl?: string | null
  @Field(() => AuthSchemeEnum, { nullable: true }) authScheme?: 'TOKEN' | null
  @Field(() => String, { nullable: true, description: 'Bearer token for the downstream app; write-only.' })
  @IsOptional()
  @MaxLength(4096)
  token?: string | null
  @Field(() => EnablementStatus, { nullable: true }) status?: 'ENABLED' | 'DISABLED' | null
  @Field(() => DeprovisioningGuardInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  deprovisioningGuard?: DeprovisioningGuardInput | null
}

@InputType()
export class UpdateAppFeatureInput {
  @Field(() => ID) appId: string
  @Field(() => AppFeatureNameEnum) name: 'USER_PROVISIONING' | 'INBOUND_PROVISIONING'
  @Field(() => EnablementStatus, { nullable: true }) status?: 'ENABLED' | 'DISABLED' | null
  @Field(() => AppFeatureCapabilities, { nullable: true }) capabilities?: AppFeatureCapabilities | null
}

@InputType()
export class AppUserInput {
  @Field(() => ID) appId: string
  @Field(() => ID) userId: string
}

@InputType()
export class AssignGroupToAppInput {
  @Field(() => ID) appId: string
  @Field(() => ID) groupId: string
  @Field(() => Int, { nullable: true, description: 'Lower wins; default: after the existing ones.' })
  @IsOptional()
  @Min(0)
  priority?: number | null
}

@InputType()
export class AppGroupInput {
  @Field(() => ID) appId: string
  @Field(() => ID) groupId: string
}
