import { ArrayMaxSize, ArrayNotEmpty, IsNotEmpty, IsOptional, MaxLength } from 'class-validator'
import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql'
import { NotBlank } from '../graphql/validation'
import { connectionOf } from '../graphql/connection'
import { Node } from '../graphql/node'
import { entityPayload } from '../graphql/payload'
import { DateTime } from '../graphql/scalars'

export enum GroupTypeEnum {
  OKTA_GROUP = 'OKTA_GROUP',
  APP_GROUP = 'APP_GROUP',
  BUILT_IN = 'BUILT_IN',
}
registerEnumType(GroupTypeEnum, {
  name: 'GroupType',
  description: 'OKTA_GROUP: managed here; APP_GROUP: by imports; BUILT_IN: by the system (Everyone).',
})

export enum GroupRuleStatusEnum {
  ACTIVE = 'ACTIVE',
  INACTIVE = 'INACTIVE',
  INVALID = 'INVALID',
}
registerEnumType(GroupRuleStatusEnum, { name: 'GroupRuleStatus' })

/** A group; resolvers receive the stored row. */
@ObjectType({ implements: Node, simpleResolvers: true })
export class Group extends Node {
  @Field(() => GroupTypeEnum) type: GroupTypeEnum
  @Field(() => String) name: string
  @Field(() => String, { nullable: true }) description: string | null
  @Field(() => DateTime) created: Date
  @Field(() => DateTime) lastUpdated: Date
  @Field(() => DateTime, { nullable: true }) lastMembershipUpdated: Date | null
}

export const GroupConnection = connectionOf(Group, 'Group')

@ObjectType({
  implements: Node,
  simpleResolvers: true,
  description: 'Adds users whose profile matches the expression to groups.',
})
export class GroupRule extends Node {
  @Field(() => String) name: string
  @Field(() => GroupRuleStatusEnum) status: GroupRuleStatusEnum
  @Field(() => String, { description: 'Okta expression, e.g. user.department == "Engineering".' }) expression: string
  @Field(() => [ID]) assignToGroupIds: string[]
  @Field(() => [ID]) excludedUserIds: string[]
  @Field(() => DateTime) created: Date
  @Field(() => DateTime) lastUpdated: Date
}

export const GroupRuleConnection = connectionOf(GroupRule, 'GroupRule')

@InputType()
export class GroupFilter {
  @Field(() => String, { nullable: true, description: 'Prefix of the name (case-insensitive).' })
  @IsOptional()
  @MaxLength(255)
  q?: string | null
  @Field(() => [GroupTypeEnum], { nullable: true }) type?: GroupTypeEnum[] | null
}

@InputType()
export class CreateGroupInput {
  @Field(() => String) @NotBlank() @MaxLength(255) name: string
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(1024) description?: string | null
}

@InputType()
export class UpdateGroupInput {
  @Field(() => ID) id: string
  @Field(() => String, { nullable: true }) @IsOptional() @NotBlank() @MaxLength(255) name?: string | null
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(1024) description?: string | null
}

@InputType()
export class DeleteGroupInput {
  @Field(() => ID) id: string
}

@InputType()
export class GroupMemberInput {
  @Field(() => ID) groupId: string
  @Field(() => ID) userId: string
}

@InputType()
export class CreateGroupRuleInput {
  @Field(() => String) @NotBlank() @MaxLength(50) name: string
  @Field(() => String) @IsNotEmpty() @MaxLength(4000) expression: string
  @Field(() => [ID], { description: 'OKTA_GROUP groups the rule adds matching users to.' })
  @ArrayMaxSize(100)
  @ArrayNotEmpty()
  assignToGroups: string[]
  @Field(() => [ID], { nullable: true, description: 'Users the rule never adds.' })
  @IsOptional()
  @ArrayMaxSize(1000)
  excludedUsers?: string[] | null
}

@InputType({ description: 'Replaces a rule while it is INACTIVE; its target groups cannot change.' })
export class UpdateGroupRuleInput {
  @Field(() => ID) id: string
  @Field(() => String) @NotBlank() @MaxLength(50) name: string
  @Field(() => String) @IsNotEmpty() @MaxLength(4000) expression: string
  @Field(() => [ID], { nullable: true }) @IsOptional() @ArrayMaxSize(1000) excludedUsers?: string[] | null
}

@InputType()
export class GroupRuleIdInput {
  @Field(() => ID) id: string
}

@InputType()
export class DeleteGroupRuleInput {
  @Field(() => ID) id: string
  @Field(() => Boolean, { defaultValue: false, description: 'Also remove the members this rule added.' })
  removeUsers: boolean
}

export const CreateGroupPayload = entityPayload('CreateGroup', 'group', Group)
export const UpdateGroupPayload = entityPayload('UpdateGroup', 'group', Group)
export const DeleteGroupPayload = entityPayload('DeleteGroup', 'group', Group)
export const AddGroupMemberPayload = entityPayload('AddGroupMember', 'group', Group)
export const RemoveGroupMemberPayload = entityPayload('RemoveGroupMember', 'group', Group)
export const CreateGroupRulePayload = entityPayload('CreateGroupRule', 'groupRule', GroupRule)
export const UpdateGroupRulePayload = entityPayload('UpdateGroupRule', 'groupRule', GroupRule)
export const ActivateGroupRulePayload = entityPayload('ActivateGroupRule', 'groupRule', GroupRule)
export const DeactivateGroupRulePayload = entityPayload('DeactivateGroupRule', 'groupRule', GroupRule)
export const DeleteGroupRulePayload = entityPayload('DeleteGroupRule', 'groupRule', GroupRule)
