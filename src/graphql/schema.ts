import 'reflect-metadata'
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql'
import { buildSchema } from 'type-graphql'
import { AppResolver, AppUserResolver, GroupAppsResolver, UserAppUsersResolver } from '../apps/app-resolver'
import { EventResolver } from '../events/event-resolver'
import { GroupResolver, GroupRuleResolver, UserGroupsResolver } from '../groups/group-resolver'
import type { PubSub } from '../events/topics'
import { TokenResolver } from '../tokens/token-resolver'
import { UserResolver } from '../users/user-resolver'
import { UserSubscriptionResolver } from '../users/user-subscriptions'
import { authChecker } from './auth'
import { NodeResolver } from './node-resolver'
import { enforceReadScopes } from './read-scopes'
import { DateTime } from './scalars'

/** Builds the executable schema from the type-graphql resolvers, each type readable only with its scope. */
export async function createSchema(pubSub: PubSub): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: [
      NodeResolver,
      UserResolver,
      UserSubscriptionResolver,
      EventResolver,
      TokenResolver,
      GroupResolver,
      GroupRuleResolver,
      UserGroupsResolver,
      AppResolver,
      AppUserResolver,
      UserAppUsersResolver,
      GroupAppsResolver,
    ],
    authChecker,
    pubSub,
    scalarsMap: [{ type: Date, scalar: DateTime }],
    // Inputs are validated inside mutations so failures become userErrors, not top-level errors.
    validate: false,
  })
  return enforceReadScopes(schema)
}

/** The SDL committed as schema.graphql (sorted, so diffs stay small). */
export function printSchemaFile(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n'
}
