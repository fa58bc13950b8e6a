import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql'
import { AppUser } from '../apps/app-types'
import type { AppUser as AppUserRow } from '../generated/prisma/client'
import { ConnectionArgs } from '../graphql/connection'
import type { Context } from '../graphql/context'
import { mutate } from '../graphql/payload'
import { listing } from '../graphql/query-errors'
import { toUserErrors } from '../graphql/user-error'
import {
  DismissProvisioningErrorInput,
  DismissProvisioningErrorPayload,
  PauseProvisioningInput,
  PauseProvisioningPayload,
  ProvisioningAttemptConnection,
  ResumeProvisioningInput,
  ResumeProvisioningPayload,
  RetryAppProvisioningInput,
  RetryAppProvisioningPayload,
  RetryProvisioningInput,
  RetryProvisioningPayload,
  type AppOperationInput,
  type AppUserOperationInput,
} from './provisioning-types'

/** The provisioning operations of api.md; every one needs apps:manage. */
@Resolver()
export class ProvisioningResolver {
  @Authorized('apps:manage')
  @Mutation(() => RetryProvisioningPayload, {
    description: "Queues the app user's provisioning work again, replacing what was queued, and clears its error.",
  })
  retryProvisioning(
    @Arg('input', () => RetryProvisioningInput) input: AppUserOperationInput,
    @Ctx() { services, actor }: Context,
  ) {
    return mutate('appUser', () => services.provisioning.retry(input.appId, input.userId, actor))
  }

  @Authorized('apps:manage')
  @Mutation(() => RetryAppProvisioningPayload, {
    description: 'retryProvisioning for every app user of the app in syncState ERROR.',
  })
  async retryAppProvisioning(
    @Arg('input', () => RetryAppProvisioningInput) input: AppOperationInput,
    @Ctx() { services, actor }: Context,
  ) {
    const result = await services.provisioning.retryApp(input.appId, actor)
    return result.ok
      ? { ...result.value, userErrors: [] }
      : { app: null, requeued: 0, userErrors: toUserErrors(result.errors) }
  }

  @Authorized('apps:manage')
  @Mutation(() => DismissProvisioningErrorPayload, {
    description: 'Clears the error without retrying: the app user keeps its status, syncState OUT_OF_SYNC.',
  })
  dismissProvisioningError(
    @Arg('input', () => DismissProvisioningErrorInput) input: AppUserOperationInput,
    @Ctx() { services, actor }: Context,
  ) {
    return mutate('appUser', () => services.provisioning.dismissError(input.appId, input.userId, actor))
  }

  @Authorized('apps:manage')
  @Mutation(() => PauseProvisioningPayload, {
    description: 'No new attempt starts for the app (in-flight requests finish; queued work waits). Idempotent.',
  })
  pauseProvisioning(
    @Arg('input', () => PauseProvisioningInput) input: AppOperationInput,
    @Ctx() { services, actor }: Context,
  ) {
    return mutate('app', () => services.provisioning.pause(input.appId, actor))
  }

  @Authorized('apps:manage')
  @Mutation(() => ResumeProvisioningPayload, { description: "The app's queued work runs again. Idempotent." })
  resumeProvisioning(
    @Arg('input', () => ResumeProvisioningInput) input: AppOperationInput,
    @Ctx() { services, actor }: Context,
  ) {
    return mutate('app', () => services.provisioning.resume(input.appId, actor))
  }
}

@Resolver(() => AppUser)
export class AppUserAttemptsResolver {
  @FieldResolver(() => ProvisioningAttemptConnection, {
    description: 'Every HTTP request sent downstream for the app user, newest first.',
  })
  async attempts(
    @Root() appUser: AppUserRow,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Ctx() { loaders }: Context,
  ) {
    const attempts = await listing(() => loaders.attemptsOfAppUser.load({ parentId: appUser.id, args: page }))
    // Ids are bigints in the table; GraphQL's ID carries them as strings.
    return {
      ...attempts,
      edges: attempts.edges.map((edge) => ({ ...edge, node: { ...edge.node, id: String(edge.node.id) } })),
    }
  }
}
