import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql'
import { AppUser, AppUserConnection } from '../apps/app-types'
import type { AppUser as AppUserRow } from '../generated/prisma/client'
import { ConnectionArgs } from '../graphql/connection'
import type { Context } from '../graphql/context'
import { mutate } from '../graphql/payload'
import { listing, queryFailure } from '../graphql/query-errors'
import { toUserErrors } from '../graphql/user-error'
import { asAttemptNode } from '../store/ids'
import { domainError } from '../errors'
import {
  DiscardProvisioningHoldInput,
  DiscardProvisioningHoldPayload,
  DismissProvisioningErrorInput,
  DismissProvisioningErrorPayload,
  PauseProvisioningInput,
  PauseProvisioningPayload,
  ProvisioningAttemptConnection,
  ReleaseProvisioningHoldInput,
  ReleaseProvisioningHoldPayload,
  ResumeProvisioningInput,
  ResumeProvisioningPayload,
  RetryAppProvisioningInput,
  RetryAppProvisioningPayload,
  RetryProvisioningInput,
  RetryProvisioningPayload,
  type AppOperationInput,
  type AppUserOperationInput,
  type HoldOperationInput,
} from './provisioning-types'

/** The provisioning operations of api.md; every one needs apps:manage (reading holds, apps:read). */
@Resolver()
export class ProvisioningResolver {
  @Authorized('apps:read')
  @Query(() => AppUserConnection, {
    description: "The app's app users whose deactivation the deprovisioning guard holds (syncState HELD).",
  })
  async provisioningHolds(
    @Arg('appId', () => ID) appId: string,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Ctx() { services }: Context,
  ) {
    const holds = await listing(() => services.appQueries.provisioningHolds(appId, page))
    return holds ?? queryFailure(domainError('NOT_FOUND', `No app with id ${appId}.`, ['appId']))
  }

  @Authorized('apps:manage')
  @Mutation(() => ReleaseProvisioningHoldPayload, {
    description:
      'Sends the held deactivations of the listed app users (all when appUserIds is omitted), in order with their other jobs.',
  })
  async releaseProvisioningHold(
    @Arg('input', () => ReleaseProvisioningHoldInput) input: HoldOperationInput,
    @Ctx() { services, actor }: Context,
  ) {
    const result = await services.provisioning.releaseHolds(input.appId, input.appUserIds ?? null, actor)
    return result.ok
      ? { app: result.value.app, released: result.value.count, userErrors: [] }
      : { app: null, released: 0, userErrors: toUserErrors(result.errors) }
  }

  @Authorized('apps:manage')
  @Mutation(() => DiscardProvisioningHoldPayload, {
    description:
      'Cancels the held deactivations of the listed app users (all when omitted): nothing is sent; they stay DEPROVISIONED, OUT_OF_SYNC.',
  })
  async discardProvisioningHold(
    @Arg('input', () => DiscardProvisioningHoldInput) input: HoldOperationInput,
    @Ctx() { services, actor }: Context,
  ) {
    const result = await services.provisioning.discardHolds(input.appId, input.appUserIds ?? null, actor)
    return result.ok
      ? { app: result.value.app, discarded: result.value.count, userErrors: [] }
      : { app: null, discarded: 0, userErrors: toUserErrors(result.errors) }
  }

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
    return { ...attempts, edges: attempts.edges.map((edge) => ({ ...edge, node: asAttemptNode(edge.node) })) }
  }
}
