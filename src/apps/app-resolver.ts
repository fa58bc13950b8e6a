import {
  Arg,
  Args,
  Authorized,
  Ctx,
  Field,
  FieldResolver,
  ID,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
} from 'type-graphql'
import type {
  AppGroupAssignment,
  AppUser as AppUserRow,
  App as AppRow,
  Group as GroupRow,
  User as UserRow,
} from '../generated/prisma/client'
import { ConnectionArgs, type Page } from '../graphql/connection'
import type { Context } from '../graphql/context'
import { mutate } from '../graphql/payload'
import { listing, queryFailure } from '../graphql/query-errors'
import { UserError } from '../graphql/user-error'
import { Group } from '../groups/group-types'
import { User } from '../users/user-types'
import { featuresOf, guardOf } from './app-service'
import type { Capabilities } from './features'
import {
  AppFilter,
  AppGroupInput,
  AppIdInput,
  AppUserFilter,
  AppUserInput,
  AssignGroupToAppInput,
  CreateAppInput,
  UpdateAppFeatureInput,
  UpdateAppInput,
  UpdateProvisioningConnectionInput,
} from './app-inputs'
import {
  ActivateAppPayload,
  App,
  AppConnection,
  AppFeature,
  AppGroupConnection,
  AppProvisioning,
  AppUser,
  AppUserConnection,
  AssignmentGrant,
  AssignUserToAppPayload,
  CreateAppPayload,
  DeactivateAppPayload,
  DeleteAppPayload,
  GroupAppConnection,
  ProvisioningError,
  UnassignUserFromAppPayload,
  UpdateAppFeaturePayload,
  UpdateAppPayload,
  UpdateProvisioningConnectionPayload,
} from './app-types'

@ObjectType({ simpleResolvers: true })
class AppGroupAssignmentPayload {
  @Field(() => App, { nullable: true }) app: AppRow | null
  @Field(() => Group, { nullable: true }) group: GroupRow | null
  @Field(() => Int, { nullable: true }) priority: number | null
  @Field(() => [UserError]) userErrors: UserError[]
}
@ObjectType('AssignGroupToAppPayload', { simpleResolvers: true })
class AssignGroupToAppPayload extends AppGroupAssignmentPayload {}
@ObjectType('UnassignGroupFromAppPayload', { simpleResolvers: true })
class UnassignGroupFromAppPayload extends AppGroupAssignmentPayload {}

/** Group-assignment edges whose node is the other side (a Group for App.groups, an App for Group.apps). */
async function assignmentEdges<T>(
  page: Page<AppGroupAssignment>,
  load: (assignment: AppGroupAssignment) => Promise<T | null>,
) {
  const nodes = await Promise.all(page.edges.map((edge) => load(edge.node)))
  return {
    ...page,
    edges: page.edges.map((edge, index) => ({ cursor: edge.cursor, priority: edge.node.priority, node: nodes[index] })),
  }
}

@Resolver(() => App)
export class AppResolver {
  @Authorized('apps:read')
  @Query(() => App, { nullable: true })
  app(@Arg('id', () => ID) id: string, @Ctx() { loaders }: Context) {
    return loaders.appById.load(id)
  }

  @Authorized('apps:read')
  @Query(() => AppConnection, { description: 'Apps, oldest first.' })
  apps(
    @Arg('filter', () => AppFilter, { nullable: true }) filter: AppFilter | null,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Ctx() { services }: Context,
  ) {
    return listing(() => services.appQueries.apps(filter, page))
  }

  @Authorized('apps:read')
  @Query(() => AppUser, {
    nullable: true,
    description: 'The assignment of a user to an app (also a DEPROVISIONED tombstone).',
  })
  appUser(
    @Arg('appId', () => ID) appId: string,
    @Arg('userId', () => ID) userId: string,
    @Ctx() { services }: Context,
  ) {
    return services.appQueries.appUser(appId, userId)
  }

  @FieldResolver(() => AppProvisioning)
  provisioning(@Root() app: AppRow): AppProvisioning {
    return {
      status: app.provisioningStatus,
      baseUrl: app.provisioningBaseUrl,
      authScheme: app.provisioningAuthScheme,
      hasToken: Boolean(app.provisioningToken),
      paused: app.provisioningPaused,
      // A hold that has passed no longer holds anything, though the worker has not cleared it yet.
      rateLimitedUntil:
        app.provisioningRateLimitedUntil && app.provisioningRateLimitedUntil > new Date()
          ? app.provisioningRateLimitedUntil
          : null,
      deprovisioningGuard: guardOf(app),
    }
  }

  @FieldResolver(() => [AppFeature], {
    nullable: true,
    description: 'PROVISIONING_NOT_ENABLED (as an error on this field) while the connection is not enabled.',
  })
  features(@Root() app: AppRow) {
    const result = featuresOf(app)
    if (!result.ok) queryFailure(result.errors[0])
    return result.value
  }

  @FieldResolver(() => AppUserConnection, { description: 'App users, including DEPROVISIONED tombstones.' })
  users(
    @Root() app: AppRow,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Arg('filter', () => AppUserFilter, { nullable: true }) filter: AppUserFilter | null,
    @Ctx() { loaders }: Context,
  ) {
    return listing(() => loaders.appUsersOfApp(filter ?? {}).load({ parentId: app.id, args: page }))
  }

  @FieldResolver(() => AppGroupConnection, {
    description: 'Groups assigned to the app; each edge carries its priority.',
  })
  async groups(@Root() app: AppRow, @Args(() => ConnectionArgs) page: ConnectionArgs, @Ctx() { loaders }: Context) {
    const assignments = await listing(() => loaders.groupAssignmentsOfApp.load({ parentId: app.id, args: page }))
    return assignmentEdges(assignments, (assignment) => loaders.groupById.load(assignment.groupId))
  }

  @Authorized('apps:manage')
  @Mutation(() => CreateAppPayload, {
    description: 'Created ACTIVE, without provisioning (SSO only) until a connection is enabled.',
  })
  createApp(@Arg('input', () => CreateAppInput) input: CreateAppInput, @Ctx() { services, actor }: Context) {
    return mutate('app', () => services.apps.create(input, actor))
  }

  @Authorized('apps:manage')
  @Mutation(() => UpdateAppPayload)
  updateApp(@Arg('input', () => UpdateAppInput) input: UpdateAppInput, @Ctx() { services, actor }: Context) {
    return mutate('app', () => services.apps.update(input.id, input, actor))
  }

  @Authorized('apps:manage')
  @Mutation(() => ActivateAppPayload)
  activateApp(@Arg('input', () => AppIdInput) input: AppIdInput, @Ctx() { services, actor }: Context) {
    return mutate('app', () => services.apps.activate(input.id, actor))
  }

  @Authorized('apps:manage')
  @Mutation(() => DeactivateAppPayload, { description: 'Its app users are left as they are.' })
  deactivateApp(@Arg('input', () => AppIdInput) input: AppIdInput, @Ctx() { services, actor }: Context) {
    return mutate('app', () => services.apps.deactivate(input.id, actor))
  }

  @Authorized('apps:manage')
  @Mutation(() => DeleteAppPayload, { description: 'Only an INACTIVE app can be deleted.' })
  deleteApp(@Arg('input', () => AppIdInput) input: AppIdInput, @Ctx() { services, actor }: Context) {
    return mutate('app', () => services.apps.delete(input.id, actor))
  }

  @Authorized('apps:manage')
  @Mutation(() => UpdateProvisioningConnectionPayload)
  updateProvisioningConnection(
    @Arg('input', () => UpdateProvisioningConnectionInput) input: UpdateProvisioningConnectionInput,
    @Ctx() { services, actor }: Context,
  ) {
    return mutate('app', () => services.apps.updateConnection(input.appId, input, actor))
  }

  @Authorized('apps:manage')
  @Mutation(() => UpdateAppFeaturePayload, {
    description: 'Partial update: only the given capability paths change; the feature comes back whole.',
  })
  updateAppFeature(
    @Arg('input', () => UpdateAppFeatureInput) input: UpdateAppFeatureInput,
    @Ctx() { services, actor }: Context,
  ) {
    return mutate('feature', () =>
      services.apps.updateFeature(
        input.appId,
        input.name,
        { status: input.status, capabilities: input.capabilities as Capabilities | null },
        actor,
      ),
    )
  }

  @Authorized('apps:manage')
  @Mutation(() => AssignUserToAppPayload, { description: 'Direct (USER scope) assignment.' })
  assignUserToApp(@Arg('input', () => AppUserInput) input: AppUserInput, @Ctx() { services, actor }: Context) {
    return mutate('appUser', () => services.apps.assignUser(input.appId, input.userId, actor))
  }

  @Authorized('apps:manage')
  @Mutation(() => UnassignUserFromAppPayload, {
    description: 'Removes the direct grant; the app stays while a group still grants it.',
  })
  unassignUserFromApp(@Arg('input', () => AppUserInput) input: AppUserInput, @Ctx() { services, actor }: Context) {
    return mutate('appUser', () => services.apps.unassignUser(input.appId, input.userId, actor))
  }

  @Authorized('apps:manage')
  @Mutation(() => AssignGroupToAppPayload, {
    description: 'Every member, now and later, gets an app user of scope GROUP.',
  })
  async assignGroupToApp(
    @Arg('input', () => AssignGroupToAppInput) input: AssignGroupToAppInput,
    @Ctx() { services, actor, loaders }: Context,
  ) {
    const payload = await mutate('assignment', () =>
      services.apps.assignGroup(input.appId, input.groupId, input.priority, actor),
    )
    return this.assignmentPayload(payload, loaders)
  }

  @Authorized('apps:manage')
  @Mutation(() => UnassignGroupFromAppPayload, { description: 'Members lose the app unless another grant remains.' })
  async unassignGroupFromApp(
    @Arg('input', () => AppGroupInput) input: AppGroupInput,
    @Ctx() { services, actor, loaders }: Context,
  ) {
    const payload = await mutate('assignment', () => services.apps.unassignGroup(input.appId, input.groupId, actor))
    return this.assignmentPayload(payload, loaders)
  }

  private async assignmentPayload(
    payload: { [key: string]: unknown; userErrors: UserError[] },
    loaders: Context['loaders'],
  ) {
    const assignment = payload.assignment as AppGroupAssignment | null
    if (!assignment) return { app: null, group: null, priority: null, userErrors: payload.userErrors }
    const [app, group] = await Promise.all([
      loaders.appById.load(assignment.appId),
      loaders.groupById.load(assignment.groupId),
    ])
    return { app, group, priority: assignment.priority, userErrors: [] }
  }
}

@Resolver(() => AppUser)
export class AppUserResolver {
  @FieldResolver(() => App)
  app(@Root() appUser: AppUserRow, @Ctx() { loaders }: Context) {
    return loaders.appById.load(appUser.appId)
  }

  @FieldResolver(() => User)
  user(@Root() appUser: AppUserRow, @Ctx() { loaders }: Context) {
    return loaders.userById.load(appUser.userId)
  }

  @FieldResolver(() => [AssignmentGrant], {
    description: 'Every grant that holds this assignment (empty once DEPROVISIONED).',
  })
  async assignedVia(@Root() appUser: AppUserRow, @Ctx() { loaders }: Context) {
    if (appUser.status === 'DEPROVISIONED') return []
    const grants = await loaders.grantsOf.load(`${appUser.appId} ${appUser.userId}`)
    const groups = await loaders.groupById.loadMany(
      grants.map((grant) => grant.groupId).filter((id): id is string => id !== null),
    )
    const byId = new Map(
      groups
        .filter((group): group is GroupRow => Boolean(group) && !(group instanceof Error))
        .map((group) => [group.id, group]),
    )
    return grants.map((grant) => ({
      scope: grant.scope,
      group: grant.groupId ? (byId.get(grant.groupId) ?? null) : null,
    }))
  }

  @FieldResolver(() => ProvisioningError, { nullable: true })
  provisioningError(@Root() appUser: AppUserRow) {
    const error = appUser.provisioningError as {
      summary: string
      causes: string[]
      occurredAt: string
      attempts: number
    } | null
    return error ? { ...error, occurredAt: new Date(error.occurredAt) } : null
  }
}

@Resolver(() => User)
export class UserAppUsersResolver {
  @FieldResolver(() => AppUserConnection, {
    description: "The user's app assignments, including DEPROVISIONED tombstones.",
  })
  appUsers(@Root() user: UserRow, @Args(() => ConnectionArgs) page: ConnectionArgs, @Ctx() { loaders }: Context) {
    return listing(() => loaders.appUsersOfUser.load({ parentId: user.id, args: page }))
  }
}

@Resolver(() => Group)
export class GroupAppsResolver {
  @FieldResolver(() => GroupAppConnection, {
    description: 'Apps assigned to the group; each edge carries its priority.',
  })
  async apps(@Root() group: GroupRow, @Args(() => ConnectionArgs) page: ConnectionArgs, @Ctx() { loaders }: Context) {
    const assignments = await listing(() => loaders.appAssignmentsOfGroup.load({ parentId: group.id, args: page }))
    return assignmentEdges(assignments, (assignment) => loaders.appById.load(assignment.appId))
  }
}
