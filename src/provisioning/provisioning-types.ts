import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql'
import { App, AppUser } from '../apps/app-types'
import type { App as AppRow } from '../generated/prisma/client'
import { connectionOf } from '../graphql/connection'
import { Node } from '../graphql/node'
import { entityPayload } from '../graphql/payload'
import { DateTime } from '../graphql/scalars'
import { UserError } from '../graphql/user-error'

export const ProvisioningOperationEnum = {
  CREATE: 'CREATE',
  LINK: 'LINK',
  UPDATE: 'UPDATE',
  DEACTIVATE: 'DEACTIVATE',
  REACTIVATE: 'REACTIVATE',
  PASSWORD: 'PASSWORD',
  IMPORT: 'IMPORT',
} as const
registerEnumType(ProvisioningOperationEnum, { name: 'ProvisioningOperation' })

export const ProvisioningAttemptOutcomeEnum = {
  SUCCEEDED: 'SUCCEEDED',
  RETRY_SCHEDULED: 'RETRY_SCHEDULED',
  FAILED: 'FAILED',
} as const
registerEnumType(ProvisioningAttemptOutcomeEnum, { name: 'ProvisioningAttemptOutcome' })

/** One HTTP request sent downstream for an app user. Never a token or password in `path` or `detail`. */
@ObjectType({
  implements: Node,
  simpleResolvers: true,
  description: 'One HTTP request sent downstream for an app user.',
})
export class ProvisioningAttempt extends Node {
  @Field(() => ProvisioningOperationEnum) operation: string
  @Field(() => String, { description: 'GET, POST, PUT or PATCH.' }) method: string
  @Field(() => String, { description: 'Relative to the connection base URL, e.g. /Users/abc.' }) path: string
  @Field(() => Int, { nullable: true, description: 'Null when no answer came (timeout, network error).' })
  httpStatus: number | null
  @Field(() => Int) durationMs: number
  @Field(() => ProvisioningAttemptOutcomeEnum) outcome: string
  @Field(() => String, { nullable: true, description: "The downstream's SCIM error detail, or ours." })
  detail: string | null
  @Field(() => DateTime) at: Date
}

export const ProvisioningAttemptConnection = connectionOf(ProvisioningAttempt, 'ProvisioningAttempt')

/** `<Name>Input { appId userId }` for an operation on one app user. */
function appUserInput(name: string) {
  @InputType(`${name}Input`)
  class Input {
    @Field(() => ID) appId: string
    @Field(() => ID) userId: string
  }
  return Input
}

/** `<Name>Input { appId }` for an operation on an app. */
function appInput(name: string) {
  @InputType(`${name}Input`)
  class Input {
    @Field(() => ID) appId: string
  }
  return Input
}

export const RetryProvisioningInput = appUserInput('RetryProvisioning')
export const DismissProvisioningErrorInput = appUserInput('DismissProvisioningError')
export type AppUserOperationInput = InstanceType<typeof RetryProvisioningInput>
export const RetryAppProvisioningInput = appInput('RetryAppProvisioning')
export const PauseProvisioningInput = appInput('PauseProvisioning')
export const ResumeProvisioningInput = appInput('ResumeProvisioning')
export type AppOperationInput = InstanceType<typeof RetryAppProvisioningInput>

export const RetryProvisioningPayload = entityPayload('RetryProvisioning', 'appUser', AppUser)
export const DismissProvisioningErrorPayload = entityPayload('DismissProvisioningError', 'appUser', AppUser)
export const PauseProvisioningPayload = entityPayload('PauseProvisioning', 'app', App)
export const ResumeProvisioningPayload = entityPayload('ResumeProvisioning', 'app', App)

@ObjectType({ simpleResolvers: true })
export class RetryAppProvisioningPayload {
  @Field(() => App, { nullable: true }) app: AppRow | null
  @Field(() => Int, { description: 'App users whose work was queued again (0 with userErrors).' }) requeued: number
  @Field(() => [UserError]) userErrors: UserError[]
}

/** `<Name>Input { appId appUserIds }` for a decision on an app's held deactivations. */
function holdInput(name: string) {
  @InputType(`${name}Input`)
  class Input {
    @Field(() => ID) appId: string
    @Field(() => [ID], { nullable: true, description: 'The held app users to settle; all of the app when omitted.' })
    appUserIds?: string[] | null
  }
  return Input
}

export const ReleaseProvisioningHoldInput = holdInput('ReleaseProvisioningHold')
export const DiscardProvisioningHoldInput = holdInput('DiscardProvisioningHold')
export type HoldOperationInput = InstanceType<typeof ReleaseProvisioningHoldInput>

@ObjectType({ simpleResolvers: true })
export class ReleaseProvisioningHoldPayload {
  @Field(() => App, { nullable: true }) app: AppRow | null
  @Field(() => Int, { description: 'Held deactivations queued to be sent (0 with userErrors).' }) released: number
  @Field(() => [UserError]) userErrors: UserError[]
}

@ObjectType({ simpleResolvers: true })
export class DiscardProvisioningHoldPayload {
  @Field(() => App, { nullable: true }) app: AppRow | null
  @Field(() => Int, { description: 'Held deactivations cancelled (0 with userErrors).' }) discarded: number
  @Field(() => [UserError]) userErrors: UserError[]
}
