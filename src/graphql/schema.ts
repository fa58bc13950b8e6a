import 'reflect-metadata'
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql'
import { buildSchema } from 'type-graphql'
import { AppResolver, AppUserResolver, GroupAppsResolver, UserAppUsersResolver } from '../apps/app-resolver'
import { EventResolver } from '../events/event-resolver'
import { EventSubscriptionResolver } from '../events/event-subscriptions'
import { GroupResolver, GroupRuleResolver, UserGroupsResolver } from '../groups/group-resolver'
import type { PubSub } from '../events/topics'
import { AppUserSubscriptionResolver } from '../provisioning/app-user-subscriptions'
import { ImportResolver } from '../provisioning/import-resolver'
import { ProvisioningPlanActionResolver, ProvisioningPlanResolver } from '../provisioning/plan-resolver'
import { AppUserAttemptsResolver, ProvisioningResolver } from '../provisioning/provisioning-resolver'
import { TokenResolver } from '../tokens/token-resolver'
import { UserResolver } from '../users/user-resolver'
import { UserSubscriptionResolver } from '../users/user-subscriptions'
import { authChecker } from './auth'
import { NodeResolver } from './node-resolver'
import { enforceReadScopes } from './read-scopes'
import {
  argumentValidator,
  boundedSubscriptionArguments,
  MAX_LIST_ITEMS,
  refusedInputsAsUserErrors,
} from './validation'
import { DateTime } from './scalars'

/** Builds the executable schema from the type-graphql resolvers, each type readable only with its scope. */
export async function createSchema(pubSub: PubSub): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [
      NodeResolver,
      UserResolver,
      UserSubscriptionResolver,
      EventResolver,
      EventSubscriptionResolver,
      TokenResolver,
      GroupResolver,
      GroupRuleResolver,
      UserGroupsResolver,
      AppResolver,
      AppUserResolver,
      UserAppUsersResolver,
      GroupAppsResolver,
      ProvisioningResolver,
      AppUserAttemptsResolver,
      ImportResolver,
      AppUserSubscriptionResolver,
      ProvisioningPlanResolver,
      ProvisioningPlanActionResolver,
    ],
    authChecker,
    pubSub,
    scalarsMap: [{ type: Date, scalar: DateTime }],
    // Every argument is validated before its resolver runs; mutations get their refusals as userErrors.
    validateFn: argumentValidator({ maxItems: MAX_LIST_ITEMS }),
  })
  return enforceReadScopes(
    boundedSubscriptionArguments(refusedInputsAsUserErrors(schema), { maxItems: MAX_LIST_ITEMS }),
  )
}

/** The SDL committed as schema.graphql (sorted, so diffs stay small). */
export function printSchemaFile(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n'
}
