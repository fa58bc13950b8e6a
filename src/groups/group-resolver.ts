import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql'
import type { Group as GroupRow, GroupRule as GroupRuleRow, User as UserRow } from '../generated/prisma/client'
import { ConnectionArgs } from '../graphql/connection'
import type { Context } from '../graphql/context'
import { mutate } from '../graphql/payload'
import { listing } from '../graphql/query-errors'
import { User, UserConnection } from '../users/user-types'
import {
  ActivateGroupRulePayload,
  AddGroupMemberPayload,
  CreateGroupInput,
  CreateGroupPayload,
  CreateGroupRuleInput,
  CreateGroupRulePayload,
  DeactivateGroupRulePayload,
  DeleteGroupInput,
  DeleteGroupPayload,
  DeleteGroupRuleInput,
  DeleteGroupRulePayload,
  Group,
  GroupConnection,
  GroupFilter,
  GroupMemberInput,
  GroupRule,
  GroupRuleConnection,
  GroupRuleIdInput,
  RemoveGroupMemberPayload,
  UpdateGroupInput,
  UpdateGroupPayload,
  UpdateGroupRuleInput,
  UpdateGroupRulePayload,
} from './group-types'

@Resolver(() => Group)
export class GroupResolver {
  @Authorized('groups:read')
  @Query(() => Group, { nullable: true })
  group(@Arg('id', () => ID) id: string, @Ctx() { loaders }: Context) {
    return loaders.groupById.load(id)
  }

  @Authorized('groups:read')
  @Query(() => GroupConnection, { description: 'Groups, oldest first.' })
  groups(
    @Arg('filter', () => GroupFilter, { nullable: true }) filter: GroupFilter | null,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Ctx() { services }: Context,
  ) {
    return listing(() => services.groupQueries.groups(filter, page))
  }

  @FieldResolver(() => UserConnection, { description: 'Members, oldest first.' })
  members(@Root() group: GroupRow, @Args(() => ConnectionArgs) page: ConnectionArgs, @Ctx() { loaders }: Context) {
    return listing(() => loaders.membersOfGroup.load({ parentId: group.id, args: page }))
  }

  @Authorized('groups:manage')
  @Mutation(() => CreateGroupPayload)
  createGroup(@Arg('input', () => CreateGroupInput) input: CreateGroupInput, @Ctx() { services, actor }: Context) {
    return mutate('group', () => services.groups.create(input, actor))
  }

  @Authorized('groups:manage')
  @Mutation(() => UpdateGroupPayload)
  updateGroup(@Arg('input', () => UpdateGroupInput) input: UpdateGroupInput, @Ctx() { services, actor }: Context) {
    return mutate('group', () => services.groups.update(input.id, input, actor))
  }

  @Authorized('groups:manage')
  @Mutation(() => DeleteGroupPayload, {
    description: 'Members lose the apps the group granted; rules naming it become INVALID.',
  })
  deleteGroup(@Arg('input', () => DeleteGroupInput) input: DeleteGroupInput, @Ctx() { services, actor }: Context) {
    return mutate('group', () => services.groups.delete(input.id, actor))
  }

  @Authorized('groups:manage')
  @Mutation(() => AddGroupMemberPayload, {
    description: 'OKTA_GROUP only; the member gains the apps assigned to the group.',
  })
  addGroupMember(@Arg('input', () => GroupMemberInput) input: GroupMemberInput, @Ctx() { services, actor }: Context) {
    return mutate('group', () => services.groups.addMember(input.groupId, input.userId, actor))
  }

  @Authorized('groups:manage')
  @Mutation(() => RemoveGroupMemberPayload, {
    description: 'OKTA_GROUP only; apps granted only by this group are deprovisioned.',
  })
  removeGroupMember(
    @Arg('input', () => GroupMemberInput) input: GroupMemberInput,
    @Ctx() { services, actor }: Context,
  ) {
    return mutate('group', () => services.groups.removeMember(input.groupId, input.userId, actor))
  }
}

@Resolver(() => GroupRule)
export class GroupRuleResolver {
  @Authorized('groups:read')
  @Query(() => GroupRule, { nullable: true })
  groupRule(@Arg('id', () => ID) id: string, @Ctx() { services }: Context) {
    return services.groupQueries.rule(id)
  }

  @Authorized('groups:read')
  @Query(() => GroupRuleConnection, { description: 'Group rules, oldest first.' })
  groupRules(@Args(() => ConnectionArgs) page: ConnectionArgs, @Ctx() { services }: Context) {
    return listing(() => services.groupQueries.rules(page))
  }

  @FieldResolver(() => [Group], { description: 'The groups the rule adds users to (deleted ones are left out).' })
  async assignToGroups(@Root() rule: GroupRuleRow, @Ctx() { loaders }: Context) {
    return (await loaders.groupById.loadMany(rule.assignToGroupIds)).filter(
      (group): group is GroupRow => Boolean(group) && !(group instanceof Error),
    )
  }

  @FieldResolver(() => [User], { description: 'Users the rule never adds.' })
  async excludedUsers(@Root() rule: GroupRuleRow, @Ctx() { loaders }: Context) {
    return (await loaders.userById.loadMany(rule.excludedUserIds)).filter(
      (user): user is UserRow => Boolean(user) && !(user instanceof Error),
    )
  }

  @Authorized('groups:manage')
  @Mutation(() => CreateGroupRulePayload, {
    description: 'Created INACTIVE; a bad expression is VALIDATION naming the position.',
  })
  createGroupRule(
    @Arg('input', () => CreateGroupRuleInput) input: CreateGroupRuleInput,
    @Ctx() { services, actor }: Context,
  ) {
    return mutate('groupRule', () => services.groupRules.create(input, actor))
  }

  @Authorized('groups:manage')
  @Mutation(() => UpdateGroupRulePayload)
  updateGroupRule(
    @Arg('input', () => UpdateGroupRuleInput) input: UpdateGroupRuleInput,
    @Ctx() { services, actor }: Context,
  ) {
    return mutate('groupRule', () => services.groupRules.update(input.id, input, actor))
  }

  @Authorized('groups:manage')
  @Mutation(() => ActivateGroupRulePayload, { description: 'Activates the rule and evaluates it over every user.' })
  activateGroupRule(
    @Arg('input', () => GroupRuleIdInput) input: GroupRuleIdInput,
    @Ctx() { services, actor }: Context,
  ) {
    return mutate('groupRule', () => services.groupRules.activate(input.id, actor))
  }

  @Authorized('groups:manage')
  @Mutation(() => DeactivateGroupRulePayload)
  deactivateGroupRule(
    @Arg('input', () => GroupRuleIdInput) input: GroupRuleIdInput,
    @Ctx() { services, actor }: Context,
  ) {
    return mutate('groupRule', () => services.groupRules.deactivate(input.id, actor))
  }

  @Authorized('groups:manage')
  @Mutation(() => DeleteGroupRulePayload)
  deleteGroupRule(
    @Arg('input', () => DeleteGroupRuleInput) input: DeleteGroupRuleInput,
    @Ctx() { services, actor }: Context,
  ) {
    return mutate('groupRule', () => services.groupRules.delete(input.id, input.removeUsers, actor))
  }
}

@Resolver(() => User)
export class UserGroupsResolver {
  @FieldResolver(() => GroupConnection, { description: "The user's groups (including Everyone)." })
  groups(@Root() user: UserRow, @Args(() => ConnectionArgs) page: ConnectionArgs, @Ctx() { loaders }: Context) {
    return listing(() => loaders.groupsOfUser.load({ parentId: user.id, args: page }))
  }
}
