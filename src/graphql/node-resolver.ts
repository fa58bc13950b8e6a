import { Arg, Authorized, Ctx, ID, Query, Resolver } from 'type-graphql'
import { kindOfId, type EntityKind } from '../store/ids'
import { requireScopes } from './auth'
import type { Context } from './context'
import { Node } from './node'
import { argumentValidator } from './validation'

/** api.md "Input limits": `nodes(ids)` takes at most 200 ids (other lists 100). */
const MAX_NODE_IDS = 200

/** How `node(id:)` finds each kind of entity, and the scope reading it needs. */
const NODE_SOURCES: Record<EntityKind, { scope: string; load(context: Context, id: string): Promise<unknown> }> = {
  User: { scope: 'users:read', load: ({ loaders }, id) => loaders.userById.load(id) },
  Group: { scope: 'groups:read', load: ({ loaders }, id) => loaders.groupById.load(id) },
  GroupRule: { scope: 'groups:read', load: ({ db }, id) => db.prisma.groupRule.findUnique({ where: { id } }) },
  App: { scope: 'apps:read', load: ({ loaders }, id) => loaders.appById.load(id) },
  AppUser: { scope: 'apps:read', load: ({ db }, id) => db.prisma.appUser.findUnique({ where: { id } }) },
  LifecycleEvent: { scope: 'events:read', load: ({ db }, id) => db.prisma.lifecycleEvent.findUnique({ where: { id } }) },
  ApiToken: { scope: 'tokens:manage', load: ({ db }, id) => db.prisma.apiToken.findUnique({ where: { id } }) },
}

async function loadNode(context: Context, id: string) {
  const kind = kindOfId(id)
  if (!kind) return null
  const source = NODE_SOURCES[kind]
  requireScopes(context, [source.scope])
  return source.load(context, id)
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
  nodes(@Arg('ids', () => [ID], { validateFn: argumentValidator({ maxItems: MAX_NODE_IDS }) }) ids: string[], @Ctx() context: Context) {
    return Promise.all(ids.map((id) => loadNode(context, id)))
  }
}
