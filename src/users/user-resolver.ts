import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql'
import { EventFilter } from '../events/event-resolver'
import { badArgument, listing } from '../graphql/query-errors'
import { LifecycleEventConnection } from '../events/event-types'
import type { User as UserRow } from '../generated/prisma/client'
import { ConnectionArgs } from '../graphql/connection'
import type { Context } from '../graphql/context'
import { toUserErrors } from '../graphql/user-error'
import type { Result } from '../errors'
import { profileOf } from './profile'
import type { AdminOperation, LifecycleOutcome } from './user-service'
import {
  ActivateUserInput,
  AuthenticateInput,
  ChangePasswordInput,
  CreateUserInput,
  DeactivateUserInput,
  DeleteUserInput,
  ExpirePasswordInput,
  ReactivateUserInput,
  ResetPasswordInput,
  SetPasswordInput,
  SuspendUserInput,
  UnlockUserInput,
  UnsuspendUserInput,
  UpdateUserInput,
  UserFilter,
  UserLookupArgs,
  type UserIdInput,
} from './user-inputs'
import {
  ActivateUserPayload,
  AuthenticatePayload,
  ChangePasswordPayload,
  CreateUserPayload,
  DeactivateUserPayload,
  DeleteUserPayload,
  ExpirePasswordPayload,
  ReactivateUserPayload,
  ResetPasswordPayload,
  SetPasswordPayload,
  SuspendUserPayload,
  UnlockUserPayload,
  UnsuspendUserPayload,
  UpdateUserPayload,
  User,
  UserConnection,
  UserCredentials,
  UserProfile,
} from './user-types'

/** A payload from a service result: the outcome's fields, or userErrors and nothing else. */
function payload(result: Result<LifecycleOutcome>) {
  return result.ok ? { ...result.value, userErrors: [] } : { user: null, userErrors: toUserErrors(result.errors) }
}

@Resolver(() => User)
export class UserResolver {
  @Authorized('users:read')
  @Query(() => User, { nullable: true, description: 'A user by id or by login.' })
  async user(@Args(() => UserLookupArgs) { id, login }: UserLookupArgs, @Ctx() { loaders, services }: Context) {
    if (id) return loaders.userById.load(id)
    if (login) return services.userQueries.byLogin(login)
    return badArgument('Give either id or login.', ['id'])
  }

  @Authorized('users:read')
  @Query(() => UserConnection, {
    description: 'Users, oldest first. DEPROVISIONED users appear only when status or search asks for them.',
  })
  async users(
    @Arg('filter', () => UserFilter, { nullable: true }) filter: UserFilter | null,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Ctx() { services }: Context,
  ) {
    const result = await listing(() => services.userQueries.list(filter, page))
    if (!result.ok) return badArgument(result.errors[0].message, result.errors[0].field ?? ['filter'])
    return result.value
  }

  @FieldResolver(() => UserProfile)
  profile(@Root() user: UserRow) {
    return profileOf(user)
  }

  @FieldResolver(() => UserCredentials)
  credentials(@Root() user: UserRow): UserCredentials {
    return { hasPassword: user.passwordHash !== null }
  }

  @FieldResolver(() => LifecycleEventConnection, { description: 'Events whose primary target is this user.' })
  async events(
    @Root() user: UserRow,
    @Arg('filter', () => EventFilter, { nullable: true }) filter: EventFilter | null,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Ctx() { services }: Context,
  ) {
    return listing(() => services.events.list({ ...filter, targetId: user.id }, page))
  }

  @Authorized('users:manage')
  @Mutation(() => CreateUserPayload, {
    description: 'Creates a user: STAGED, or activated (ACTIVE with a password, PROVISIONED without).',
  })
  async createUser(@Arg('input', () => CreateUserInput) input: CreateUserInput, @Ctx() { services, actor }: Context) {
    const { custom, ...attributes } = input.profile
    const result = await services.users.create(
      {
        profile: { ...attributes, custom: custom ?? undefined },
        password: input.credentials?.password ?? undefined,
        activate: input.activate,
      },
      actor,
    )
    return payload(result)
  }

  @Authorized('users:manage')
  @Mutation(() => UpdateUserPayload, { description: 'Partial profile update.' })
  async updateUser(@Arg('input', () => UpdateUserInput) input: UpdateUserInput, @Ctx() { services, actor }: Context) {
    const { login, email, custom, ...rest } = input.profile
    return payload(
      await services.users.update(
        input.id,
        { ...rest, login: login ?? undefined, email: email ?? undefined, custom },
        actor,
      ),
    )
  }

  @Authorized('users:manage')
  @Mutation(() => ActivateUserPayload)
  activateUser(@Arg('input', () => ActivateUserInput) input: ActivateUserInput, @Ctx() context: Context) {
    return this.lifecycle('activate', input, context)
  }

  @Authorized('users:manage')
  @Mutation(() => ReactivateUserPayload, { description: 'Restarts an unfinished activation with a new token.' })
  reactivateUser(@Arg('input', () => ReactivateUserInput) input: UserIdInput, @Ctx() context: Context) {
    return this.lifecycle('reactivate', input, context)
  }

  @Authorized('users:manage')
  @Mutation(() => DeactivateUserPayload)
  deactivateUser(@Arg('input', () => DeactivateUserInput) input: UserIdInput, @Ctx() context: Context) {
    return this.lifecycle('deactivate', input, context)
  }

  @Authorized('users:manage')
  @Mutation(() => SuspendUserPayload)
  suspendUser(@Arg('input', () => SuspendUserInput) input: UserIdInput, @Ctx() context: Context) {
    return this.lifecycle('suspend', input, context)
  }

  @Authorized('users:manage')
  @Mutation(() => UnsuspendUserPayload)
  unsuspendUser(@Arg('input', () => UnsuspendUserInput) input: UserIdInput, @Ctx() context: Context) {
    return this.lifecycle('unsuspend', input, context)
  }

  @Authorized('users:manage')
  @Mutation(() => UnlockUserPayload)
  unlockUser(@Arg('input', () => UnlockUserInput) input: UserIdInput, @Ctx() context: Context) {
    return this.lifecycle('unlock', input, context)
  }

  @Authorized('users:manage')
  @Mutation(() => ResetPasswordPayload, {
    description: 'Starts a password reset (RECOVERY) and returns the reset token.',
  })
  resetPassword(@Arg('input', () => ResetPasswordInput) input: ResetPasswordInput, @Ctx() context: Context) {
    return this.lifecycle('resetPassword', input, context)
  }

  @Authorized('users:manage')
  @Mutation(() => ExpirePasswordPayload)
  async expirePassword(
    @Arg('input', () => ExpirePasswordInput) input: ExpirePasswordInput,
    @Ctx() { services, actor }: Context,
  ) {
    return payload(await services.users.apply('expirePassword', input.id, actor, { tempPassword: input.tempPassword }))
  }

  @Authorized('users:manage')
  @Mutation(() => DeleteUserPayload, {
    description: 'First call deactivates (DEPROVISIONED); a call on a DEPROVISIONED user deletes it.',
  })
  async deleteUser(@Arg('input', () => DeleteUserInput) input: UserIdInput, @Ctx() { services, actor }: Context) {
    const result = await services.users.apply('delete', input.id, actor)
    if (!result.ok) return { deletedUserId: null, user: null, userErrors: toUserErrors(result.errors) }
    return { deletedUserId: result.value.user ? null : input.id, user: result.value.user, userErrors: [] }
  }

  @Authorized('users:manage')
  @Mutation(() => SetPasswordPayload, {
    description: 'The end user completes activation or recovery with a one-time token; the user becomes ACTIVE.',
  })
  async setPassword(
    @Arg('input', () => SetPasswordInput) input: SetPasswordInput,
    @Ctx() { services, actor }: Context,
  ) {
    return payload(await services.users.setPassword(input.token, input.password, actor))
  }

  @Authorized('users:manage')
  @Mutation(() => ChangePasswordPayload, {
    description: 'The end user replaces their password (also renews an expired one).',
  })
  async changePassword(
    @Arg('input', () => ChangePasswordInput) input: ChangePasswordInput,
    @Ctx() { services, actor }: Context,
  ) {
    return payload(await services.users.changePassword(input.login, input.currentPassword, input.newPassword, actor))
  }

  @Authorized('users:manage')
  @Mutation(() => AuthenticatePayload, {
    description: 'Verifies a password; failures count toward the lockout policy.',
  })
  async authenticate(
    @Arg('input', () => AuthenticateInput) input: AuthenticateInput,
    @Ctx() { services, actor }: Context,
  ) {
    const result = await services.users.authenticate(input.login, input.password, actor)
    if (!result.ok)
      return { success: false, passwordChangeRequired: false, user: null, userErrors: toUserErrors(result.errors) }
    return { ...result.value, userErrors: [] }
  }

  private async lifecycle(operation: AdminOperation, input: { id: string }, { services, actor }: Context) {
    return payload(await services.users.apply(operation, input.id, actor))
  }
}
