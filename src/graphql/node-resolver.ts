import { Arg, Authorized, Ctx, ID, Query, Resolver } from 'type-graphql'
import { asAttemptNode, attemptNumber, kindOfId, type EntityKind } from '../store/ids'
import { requireScopes } from './auth'
import type { Context } from './context'
import { Node } from './node'
import { READ_SCOPES } from './read-scopes'
import { argumentValidator } from './validation'

/** api.md "Input limits": `nodes(ids)` takes at most 200 ids (other lists 100). */
const MAX_NODE_IDS = 200

/** How `node(id:)` finds each kind of entity (the scope reading it is the type's: see read-scopes.ts). */
const NODE_SOURCES: Record<EntityKind, (context: Context, id: string) => Promise<unknown>> = {
  User: ({ loaders }, id) => loaders.userById.load(id),
  Group: ({ loaders }, id) => loaders.groupById.load(id),
  GroupRule: ({ db }, id) => db.prisma.groupRule.findUnique({ where: { id } }),
  App: ({ loaders }, id) => loaders.appById.load(id),
  AppUser: ({ db }, id) => db.prisma.appUser.findUnique({ where: { id } }),
  LifecycleEvent: ({ db }, id) => db.prisma.lifecycleEvent.findUnique({ where: { id } }),
  ApiToken: ({ db }, id) => db.prisma.apiToken.findUnique({ where: { id } }),
  ProvisioningAttempt: async ({ db }, id) => {
    const number = attemptNumber(id)
    const row = number === undefined ? null : await db.prisma.provisioningAttempt.findUnique({ where: { id: number } })
    return row && asAttemptNode(row)
  },
}

/** Checks the kind's read scope before loading, so a token cannot learn whether an id it may not read exists. */
async function loadNode(context: Context, id: string) {
  const kind = kindOfId(id)
  if (!kind) return null
  requireScopes(context, [READ_SCOPES[kind]])
  return NODE_SOURCES[kind](context, id)
}

@Resolver()
export class NodeResolver {
  @Authorized()
  @Query(() => Node, { nullable: true, description: 'Any entity by its global id.' })
  node(@Arg('id', () => ID) id: string, @Ctx() context: Context) {
    return loadNode(context, id)
  }

  @Authorized()
  @Query(() => [Node], { nullable: 'items', description: 'Several entities by global id, in the given order.' })
  nodes(
    @Arg('ids', () => [ID], { validateFn: argumentValidator({ maxItems: MAX_NODE_IDS }) }) ids: string[],
    @Ctx() context: Context,
  ) {
    // A forbidden id is an error at its own index; the others still resolve.
    return Promise.all(ids.map((id) => loadNode(context, id).catch((error: unknown) => error)))
  }
}
