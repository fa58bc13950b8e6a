import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql'
import { AppUser } from '../apps/app-types'
import { connectionOf } from '../graphql/connection'
import { JSONScalar } from '../graphql/scalars'
import { User } from '../users/user-types'

/** previewProvisioning's types (api.md "Provisioning operations"). */

export const ProvisioningPlanActionKindEnum = {
  CREATE: 'CREATE',
  LINK: 'LINK',
  UPDATE: 'UPDATE',
  DEACTIVATE: 'DEACTIVATE',
  REACTIVATE: 'REACTIVATE',
  NONE: 'NONE',
} as const
registerEnumType(ProvisioningPlanActionKindEnum, {
  name: 'ProvisioningPlanActionKind',
  description: 'What a provisioning run would do for one app user.',
})

@ObjectType({ simpleResolvers: true, description: 'A downstream account as the plan read it.' })
export class DownstreamAccount {
  @Field(() => ID, { description: "The downstream's id (an app user's externalId once linked)." }) id: string
  @Field(() => String) userName: string
  @Field(() => Boolean) active: boolean
}

@ObjectType({ simpleResolvers: true, description: 'One mapped SCIM attribute a run would change.' })
export class AttributeChange {
  @Field(() => String, { description: 'The SCIM attribute path, e.g. name.givenName.' }) attribute: string
  @Field(() => JSONScalar, { nullable: true, description: "The downstream's value (null when absent)." })
  from: unknown
  @Field(() => JSONScalar, { nullable: true, description: 'Our value (null: the attribute is cleared).' })
  to: unknown
}

@ObjectType({ description: 'What a provisioning run would do for one app user, and why.' })
export class ProvisioningPlanAction {
  @Field(() => ProvisioningPlanActionKindEnum) action: string
  @Field(() => AppUser) appUser: unknown
  @Field(() => User) user: unknown
  @Field(() => DownstreamAccount, {
    nullable: true,
    description: 'The account the action concerns (linked, or matched by userName); null for a CREATE.',
  })
  downstream: DownstreamAccount | null
  @Field(() => [AttributeChange], {
    description: 'Mapped attributes that differ, downstream (from) -> ours (to): drift, or what a create sends.',
  })
  changes: AttributeChange[]
  @Field(() => String) reason: string
}

export const ProvisioningPlanActionConnection = connectionOf(ProvisioningPlanAction, 'ProvisioningPlanAction')

@ObjectType({ simpleResolvers: true, description: 'Actions of the plan by kind.' })
export class ProvisioningPlanCounts {
  @Field(() => Int) create: number
  @Field(() => Int) link: number
  @Field(() => Int) update: number
  @Field(() => Int) deactivate: number
  @Field(() => Int) reactivate: number
  @Field(() => Int, { description: 'App users for whom a run would send nothing (action NONE).' }) unchanged: number
  @Field(() => Int, {
    description: 'Downstream accounts no app user is linked to, nor would be by this plan (not listed in actions).',
  })
  orphaned: number
}

@ObjectType({
  description: 'What a provisioning run for the app would send, read from the downstream; changes nothing.',
})
export class ProvisioningPlan {
  @Field(() => ID) appId: string
  @Field(() => ProvisioningPlanCounts) counts: ProvisioningPlanCounts
}
