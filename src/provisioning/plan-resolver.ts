import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql'
import { AppUser } from '../apps/app-types'
import { ConnectionArgs, decodeCursor, encodeCursor, pageRequest, toPage, type Page } from '../graphql/connection'
import type { Context } from '../graphql/context'
import { listing, queryFailure } from '../graphql/query-errors'
import { User } from '../users/user-types'
import { ProvisioningPlan, ProvisioningPlanAction, ProvisioningPlanActionConnection } from './plan-types'
import type { PlanAction, PlanCounts } from './provisioning-plan'

/** The plan as the query returns it: its actions are paged by the `actions` field. */
interface PlanRoot {
  appId: string
  counts: PlanCounts
  planned: PlanAction[]
}

const CURSOR_TAG = 'planAction'

/** A page of the plan's actions, which come ordered by app-user id: a cursor is the app user's id. */
function actionPage(actions: PlanAction[], args: ConnectionArgs): Page<PlanAction> {
  const request = pageRequest(args, (cursor) => decodeCursor(CURSOR_TAG, cursor))
  const { after, before } = request
  const within = actions.filter(
    ({ appUserId }) => (after === undefined || appUserId > after) && (before === undefined || appUserId < before),
  )
  const rows = request.backward ? within.slice(-(request.size + 1)).reverse() : within.slice(0, request.size + 1)
  return toPage(
    rows,
    request,
    (action) => encodeCursor(CURSOR_TAG, action.appUserId),
    async () => actions.length,
  )
}

@Resolver(() => ProvisioningPlan)
export class ProvisioningPlanResolver {
  @Authorized('apps:read')
  @Query(() => ProvisioningPlan, {
    nullable: true,
    description:
      'What a provisioning run for the app would send, read from the downstream (GET only); changes nothing. ' +
      'PROVISIONING_NOT_ENABLED, FEATURE_NOT_SUPPORTED, NOT_FOUND or DOWNSTREAM_FAILED as an error on this field.',
  })
  async previewProvisioning(@Arg('appId', () => ID) appId: string, @Ctx() { services }: Context): Promise<PlanRoot> {
    const result = await services.plans.preview(appId)
    if (!result.ok) queryFailure(result.errors[0])
    const { plan } = result.value
    return { appId: result.value.appId, counts: plan.counts, planned: plan.actions }
  }

  @FieldResolver(() => ProvisioningPlanActionConnection, { description: 'One action per app user, by app-user id.' })
  actions(@Root() root: PlanRoot, @Args(() => ConnectionArgs) page: ConnectionArgs) {
    return listing(async () => actionPage(root.planned, page))
  }
}

@Resolver(() => ProvisioningPlanAction)
export class ProvisioningPlanActionResolver {
  @FieldResolver(() => AppUser)
  appUser(@Root() action: PlanAction, @Ctx() { loaders }: Context) {
    return loaders.appUserById.load(action.appUserId)
  }

  @FieldResolver(() => User)
  user(@Root() action: PlanAction, @Ctx() { loaders }: Context) {
    return loaders.userById.load(action.userId)
  }
}
