import {
  defaultFieldResolver,
  defaultTypeResolver,
  getNamedType,
  GraphQLError,
  isAbstractType,
  isIntrospectionType,
  isObjectType,
  type GraphQLAbstractType,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from 'graphql'
import type { Scope } from '../tokens/scopes'
import { requireScopes } from './auth'
import type { Context } from './context'

/**
 * The scope that reads each object type holding data: the one place access to data is decided.
 * A token lacking it gets nothing of the type by any path (root query, nested field, `node`,
 * mutation payload, subscription). Connections and edges take their node's scope (below), so
 * neither `totalCount` nor an edge leaks.
 */
export const READ_SCOPES: Readonly<Record<string, Scope>> = {
  User: 'users:read',
  UserProfile: 'users:read',
  UserCredentials: 'users:read',
  UserStatusChange: 'users:read',
  Group: 'groups:read',
  GroupRule: 'groups:read',
  App: 'apps:read',
  AppUser: 'apps:read',
  AppProvisioning: 'apps:read',
  DeprovisioningGuard: 'apps:read',
  ProvisioningError: 'apps:read',
  ProvisioningAttempt: 'apps:read',
  AppUserStatusChange: 'apps:read',
  ProvisioningPlan: 'apps:read',
  ProvisioningPlanCounts: 'apps:read',
  ProvisioningPlanAction: 'apps:read',
  DownstreamAccount: 'apps:read',
  AttributeChange: 'apps:read',
  AssignmentGrant: 'apps:read',
  AppFeature: 'apps:read',
  AppFeatureCapabilities: 'apps:read',
  CreateCapabilities: 'apps:read',
  UpdateCapabilities: 'apps:read',
  CapabilityStatus: 'apps:read',
  PasswordCapability: 'apps:read',
  ImportSettings: 'apps:read',
  UsernameSettings: 'apps:read',
  ImportScheduleSettings: 'apps:read',
  ImportSchedule: 'apps:read',
  ImportRules: 'apps:read',
  UserCreateAndMatch: 'apps:read',
  ImportResult: 'apps:read',
  ImportedAccount: 'apps:read',
  LifecycleEvent: 'events:read',
  EventActor: 'events:read',
  EventTarget: 'events:read',
  EventOutcome: 'events:read',
  ApiToken: 'tokens:manage',
}

/** Object types that hold no data of their own: operation roots, mutation payloads, paging, errors, the caller. */
export const isEnvelope = (typeName: string) =>
  /^(Query|Mutation|Subscription|PageInfo|UserError|Viewer|\w+Payload)$/.test(typeName)

/** The scope reading a named type: declared above, or for a connection or edge, its node's. */
export function readScopeOf(type: GraphQLNamedType): Scope | undefined {
  if (!isObjectType(type)) return undefined
  const declared = READ_SCOPES[type.name]
  if (declared) return declared
  const fields = type.getFields()
  const inner = fields.node ?? fields.edges
  return inner && !isEnvelope(type.name) ? readScopeOf(getNamedType(inner.type)) : undefined
}

/** Resolves a field returning a scoped object type only for a principal holding the scope. */
function guardObjectField(
  scope: Scope,
  resolve: GraphQLFieldResolver<unknown, Context>,
): GraphQLFieldResolver<unknown, Context> {
  return (source, args, context, info) => {
    requireScopes(context, [scope])
    return resolve(source, args, context, info)
  }
}

/**
 * For a field returning an interface or union (`node`, `nodes`), the concrete type is known only
 * once the value is: each resolved value whose type the principal may not read becomes a FORBIDDEN
 * error at its path (in a list, at that item's), and none of its data is returned.
 */
function guardAbstractField(
  schema: GraphQLSchema,
  abstractType: GraphQLAbstractType,
  resolve: GraphQLFieldResolver<unknown, Context>,
): GraphQLFieldResolver<unknown, Context> {
  const typeResolver = abstractType.resolveType ?? defaultTypeResolver
  const check = async (value: unknown, context: Context, info: GraphQLResolveInfo): Promise<unknown> => {
    if (value == null || value instanceof Error) return value
    if (Array.isArray(value))
      return Promise.all(value.map((item) => check(item, context, info).catch((error: unknown) => error)))
    const typeName = await typeResolver(value, context, info, abstractType)
    const type = typeof typeName === 'string' ? schema.getType(typeName) : undefined
    const scope = type ? readScopeOf(type) : undefined
    if (scope) requireScopes(context, [scope])
    else if (!type) throw new GraphQLError(`No readable type for a value of ${abstractType.name}.`)
    return value
  }
  return (source, args, context, info) =>
    Promise.resolve(resolve(source, args, context, info)).then((value) => check(value, context, info))
}

/** What reading a field requires: the scope of its object type, or the check of each value's concrete type. */
export type FieldGuard = { kind: 'object'; scope: Scope } | { kind: 'abstract'; type: GraphQLAbstractType }

/**
 * The check a field needs, if any. A field between two types of one scope (UserConnection.edges,
 * UserEdge.node, User.profile) needs none: its parent was reached only through a check of that
 * scope, since operation roots and payloads have none and every field into a scope from outside it
 * is checked. Checking only where a path enters a scope keeps a page of rows from paying one
 * resolver call per row and field (graphql-jit reads unchecked fields as plain properties).
 */
export function guardOf(parent: GraphQLObjectType, field: GraphQLField<unknown, unknown>): FieldGuard | undefined {
  const returned = getNamedType(field.type)
  if (isAbstractType(returned)) return { kind: 'abstract', type: returned }
  const scope = readScopeOf(returned)
  return scope && scope !== readScopeOf(parent) ? { kind: 'object', scope } : undefined
}

/**
 * Wraps, in place, the resolver of every field entering a scoped type or returning an abstract
 * one (see `guardOf`), so the scope is checked wherever the type is reached. Both executors (graphql-js and graphql-jit, which
 * compiles from this schema's resolvers) and subscriptions (whose events pass through `resolve`)
 * go through it.
 */
export function enforceReadScopes(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue
    for (const field of Object.values(type.getFields())) {
      const guard = guardOf(type, field)
      if (!guard) continue
      const resolve = (field.resolve ?? defaultFieldResolver) as GraphQLFieldResolver<unknown, Context>
      field.resolve = (
        guard.kind === 'object'
          ? guardObjectField(guard.scope, resolve)
          : guardAbstractField(schema, guard.type, resolve)
      ) as typeof field.resolve
    }
  }
  return schema
}
