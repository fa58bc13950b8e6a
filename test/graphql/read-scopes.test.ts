import 'reflect-metadata'
import {
  buildSchema,
  getNamedType,
  graphql,
  GraphQLError,
  isAbstractType,
  isIntrospectionType,
  isObjectType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from 'graphql'
import { createTopics } from '../../src/events/topics'
import { enforceReadScopes, guardOf, isEnvelope, READ_SCOPES, readScopeOf } from '../../src/graphql/read-scopes'
import { createSchema } from '../../src/graphql/schema'
import { ID_PREFIXES } from '../../src/store/ids'
import { SCOPES, type Principal, type Scope } from '../../src/tokens/scopes'

/**
 * Walks the real schema: every field whose type a scope reads is checked by the one mechanism,
 * so a field added tomorrow is covered without anyone remembering to add a check.
 */

let schema: GraphQLSchema
beforeAll(async () => {
  schema = await createSchema(createTopics())
})

const principalWith = (scopes: readonly Scope[]): Principal => ({
  tokenId: 'tok_walker',
  name: 'walker',
  scopes: new Set(scopes),
})
const everyScopeBut = (scope: Scope) => principalWith(SCOPES.filter((held) => held !== scope))

const objectTypes = () =>
  Object.values(schema.getTypeMap()).filter(
    (type): type is GraphQLObjectType => isObjectType(type) && !isIntrospectionType(type),
  )
const fieldsWhere = (keep: (parent: GraphQLObjectType, field: GraphQLField<unknown, unknown>) => boolean) =>
  objectTypes().flatMap((type) =>
    Object.values(type.getFields())
      .filter((field) => keep(type, field))
      .map((field) => ({ path: `${type.name}.${field.name}`, parent: type, field })),
  )

const codeOf = (error: unknown) =>
  error instanceof GraphQLError ? error.extensions.code : `not a GraphQLError: ${String(error)}`
const info = { fieldName: 'walked' } as unknown as GraphQLResolveInfo

/** Calls a field's resolver; anything the inner resolver would read (its parent value, the context's services) is recorded. */
function resolveRecording(field: GraphQLField<unknown, unknown>, principal: Principal) {
  const touched: string[] = []
  const source = new Proxy({}, { get: (_target, key) => void touched.push(`source.${String(key)}`) })
  const context = new Proxy({ principal } as Record<string | symbol, unknown>, {
    get(target, key) {
      if (key !== 'principal') touched.push(`context.${String(key)}`)
      return target[key]
    },
  })
  try {
    const value: unknown = field.resolve!(source, {}, context, info)
    // Only whether the check let it through matters here; what the inner resolver makes of a fake parent does not.
    if (value instanceof Promise) value.catch(() => {})
    return { touched, error: undefined }
  } catch (error) {
    return { touched, error }
  }
}

test('every object type declares the scope that reads it, or is an envelope holding no data of its own', () => {
  const undeclared = objectTypes()
    .filter((type) => !readScopeOf(type) && !isEnvelope(type.name))
    .map((type) => type.name)
  expect(undeclared).toEqual([])
  const declaredButAbsent = Object.keys(READ_SCOPES).filter((name) => !isObjectType(schema.getType(name)))
  expect(declaredButAbsent).toEqual([])
  // Every path starts at a root without a scope, so it enters each scoped type through a checked field.
  const scopedEnvelopes = objectTypes()
    .filter((type) => isEnvelope(type.name) && readScopeOf(type))
    .map((type) => type.name)
  expect(scopedEnvelopes).toEqual([])
})

test("connections and edges are read with their node's scope, so totalCount does not leak", () => {
  const scopeOf = (name: string) => readScopeOf(schema.getType(name)!)
  expect(scopeOf('UserConnection')).toBe('users:read')
  expect(scopeOf('GroupEdge')).toBe('groups:read')
  expect(scopeOf('AppGroupConnection')).toBe('groups:read')
  expect(scopeOf('GroupAppConnection')).toBe('apps:read')
  expect(scopeOf('LifecycleEventConnection')).toBe('events:read')
})

test('every field entering a scoped type from outside its scope is FORBIDDEN to a token with every other scope, and its resolver never runs', () => {
  const entering = fieldsWhere((parent, field) => {
    const scope = readScopeOf(getNamedType(field.type))
    return scope !== undefined && scope !== readScopeOf(parent)
  })
  expect(entering.length).toBeGreaterThan(30)
  const failures: string[] = []
  for (const { path, parent, field } of entering) {
    const scope = readScopeOf(getNamedType(field.type))!
    const denied = resolveRecording(field, everyScopeBut(scope))
    if (codeOf(denied.error) !== 'FORBIDDEN') failures.push(`${path}: ${codeOf(denied.error)} without ${scope}`)
    if (denied.touched.length > 0)
      failures.push(`${path}: the resolver ran without ${scope} (read ${denied.touched.join(', ')})`)
    const allowed = resolveRecording(field, principalWith([scope]))
    if (allowed.error !== undefined && codeOf(allowed.error) === 'FORBIDDEN')
      failures.push(`${path}: FORBIDDEN with ${scope}`)
  }
  expect(failures).toEqual([])
})

describe('fields returning an interface (node, nodes)', () => {
  /** A context whose loaders and tables echo back a row with the id asked for. */
  const echoContext = (principal: Principal) => {
    const row = async (id: string) => ({ id })
    const loader = { load: row, loadMany: (ids: string[]) => Promise.all(ids.map(row)) }
    const table = { findUnique: ({ where }: { where: { id: string } }) => row(where.id) }
    return {
      principal,
      loaders: new Proxy({}, { get: () => loader }),
      db: { prisma: new Proxy({}, { get: () => table }) },
    }
  }

  test('each concrete type comes back only to a token holding its scope; without it the value is FORBIDDEN', async () => {
    const abstract = fieldsWhere((_parent, field) => isAbstractType(getNamedType(field.type)))
    expect(abstract.map(({ path }) => path).sort()).toEqual(['Query.node', 'Query.nodes'])
    for (const { path, field } of abstract) {
      for (const type of schema.getPossibleTypes(
        getNamedType(field.type) as Parameters<GraphQLSchema['getPossibleTypes']>[0],
      )) {
        const scope = readScopeOf(type)!
        // Attempts are numbered by their table: their ids carry a number (store/ids.ts).
        const id = `${ID_PREFIXES[type.name as keyof typeof ID_PREFIXES]}_${type.name === 'ProvisioningAttempt' ? 7 : 'walked'}`
        const args = { id, ids: [id] }
        const denied = await Promise.resolve(
          field.resolve!(undefined, args, echoContext(everyScopeBut(scope)), info),
        ).then(
          (value) => (Array.isArray(value) ? value[0] : value),
          (error: unknown) => error,
        )
        expect({ path, type: type.name, code: codeOf(denied) }).toEqual({ path, type: type.name, code: 'FORBIDDEN' })
        const allowed = await field.resolve!(undefined, args, echoContext(principalWith([scope])), info)
        expect({ path, type: type.name, value: Array.isArray(allowed) ? allowed[0] : allowed }).toEqual({
          path,
          type: type.name,
          value: { id },
        })
      }
    }
  })
})

describe('the mechanism on a small schema whose resolvers check nothing themselves', () => {
  const sdl = `
    interface Node { id: ID! }
    type User implements Node { id: ID! profile: UserProfile! }
    type UserProfile { email: String! }
    type Group implements Node { id: ID! name: String! }
    type Note implements Node { id: ID! }
    type PageInfo { hasNextPage: Boolean! }
    type UserEdge { node: User! }
    type UserConnection { edges: [UserEdge!]! totalCount: Int! pageInfo: PageInfo! }
    type UsersPagePayload { edges: [UserEdge!]! }
    type Query { node(id: ID!): Node nodes(ids: [ID!]!): [Node]! users: UserConnection! }
  `
  const rows: Record<string, object> = {
    usr_1: { __typename: 'User', id: 'usr_1', profile: { email: 'ada@example.com' } },
    grp_1: { __typename: 'Group', id: 'grp_1', name: 'Engineers' },
    note_1: { __typename: 'Note', id: 'note_1' },
    odd_1: { __typename: 'NotInTheSchema', id: 'odd_1' },
  }
  let small: GraphQLSchema
  beforeAll(() => {
    small = buildSchema(sdl)
    const query = small.getQueryType()!.getFields()
    // `node` answers synchronously, `nodes` as a loader does: a promise, with an Error for each id it did not find.
    query.node.resolve = (_source, { id }: { id: string }) => rows[id] ?? null
    query.nodes.resolve = async (_source, { ids }: { ids: string[] }) =>
      ids.map((id) => rows[id] ?? new Error(`${id} not found`))
    query.users.resolve = () => ({ edges: [{ node: rows.usr_1 }], totalCount: 1, pageInfo: { hasNextPage: false } })
    enforceReadScopes(small)
  })
  const run = async (source: string, scopes: readonly Scope[]) => {
    const result = await graphql({ schema: small, source, contextValue: { principal: principalWith(scopes) } })
    return {
      data: result.data,
      errors: result.errors?.map((error) => ({
        path: error.path,
        code: error.extensions.code,
        message: error.message,
      })),
    }
  }
  const forbidden = (...path: (string | number)[]) => ({ path, code: 'FORBIDDEN', message: expect.any(String) })

  test('a node of a type the token may not read is FORBIDDEN, and comes back to a token holding its scope', async () => {
    expect(await run('{ node(id: "usr_1") { id } }', ['groups:read'])).toEqual({
      data: { node: null },
      errors: [forbidden('node')],
    })
    expect(await run('{ node(id: "usr_1") { id } }', ['users:read'])).toEqual({
      data: { node: { id: 'usr_1' } },
      errors: undefined,
    })
  })

  test('in a list, each item the token may not read is FORBIDDEN at its own path, and the others come back', async () => {
    expect(await run('{ nodes(ids: ["usr_1", "grp_1"]) { id } }', ['groups:read'])).toEqual({
      data: { nodes: [null, { id: 'grp_1' }] },
      errors: [forbidden('nodes', 0)],
    })
  })

  test('a node that does not exist is null without an error; an item a list did not find keeps its own error', async () => {
    expect(await run('{ node(id: "usr_404") { id } }', [])).toEqual({ data: { node: null }, errors: undefined })
    expect(await run('{ nodes(ids: ["grp_1", "usr_404"]) { id } }', ['groups:read'])).toEqual({
      data: { nodes: [{ id: 'grp_1' }, null] },
      errors: [{ path: ['nodes', 1], code: undefined, message: 'usr_404 not found' }],
    })
  })

  test('a type holding no data of its own comes back to any token; a value of no type in the schema is an error, not data', async () => {
    expect(await run('{ node(id: "note_1") { id } }', [])).toEqual({
      data: { node: { id: 'note_1' } },
      errors: undefined,
    })
    const { data, errors } = await run('{ node(id: "odd_1") { id } }', SCOPES)
    expect(data).toEqual({ node: null })
    expect(errors).toEqual([{ path: ['node'], code: undefined, message: 'No readable type for a value of Node.' }])
  })

  test('a connection is checked where the path enters it: without the scope neither its edges nor its totalCount come back', async () => {
    expect(await run('{ users { totalCount } }', ['groups:read'])).toEqual({ data: null, errors: [forbidden('users')] })
    expect(await run('{ users { totalCount edges { node { profile { email } } } } }', ['users:read'])).toEqual({
      data: { users: { totalCount: 1, edges: [{ node: { profile: { email: 'ada@example.com' } } }] } },
      errors: undefined,
    })
  })

  test('only fields entering a scope or returning an interface are guarded: none between types of one scope or into an envelope', () => {
    const field = (type: string, name: string) =>
      [small.getType(type) as GraphQLObjectType, (small.getType(type) as GraphQLObjectType).getFields()[name]] as const
    expect(guardOf(...field('Query', 'node'))).toEqual({ kind: 'abstract', type: small.getType('Node') })
    expect(guardOf(...field('Query', 'nodes'))).toEqual({ kind: 'abstract', type: small.getType('Node') })
    expect(guardOf(...field('Query', 'users'))).toEqual({ kind: 'object', scope: 'users:read' })
    expect(guardOf(...field('UsersPagePayload', 'edges'))).toEqual({ kind: 'object', scope: 'users:read' })
    for (const [type, name] of [
      ['UserConnection', 'edges'],
      ['UserEdge', 'node'],
      ['User', 'profile'],
      ['UserConnection', 'pageInfo'],
      ['UserConnection', 'totalCount'],
    ]) {
      expect({ field: `${type}.${name}`, guard: guardOf(...field(type, name)) }).toEqual({
        field: `${type}.${name}`,
        guard: undefined,
      })
    }
  })

  test('a payload listing edges is an envelope without a scope; a type without data, nodes or edges has none either', () => {
    expect(readScopeOf(small.getType('UsersPagePayload')!)).toBeUndefined()
    expect(readScopeOf(small.getType('Note')!)).toBeUndefined()
    expect(readScopeOf(small.getType('PageInfo')!)).toBeUndefined()
    expect(readScopeOf(small.getType('Node')!)).toBeUndefined()
    expect(readScopeOf(small.getType('UserConnection')!)).toBe('users:read')
  })

  test('an envelope is named exactly: a data type whose name only begins or ends like one is not an envelope', () => {
    expect(
      ['Query', 'Mutation', 'Subscription', 'PageInfo', 'UserError', 'Viewer', 'CreateUserPayload'].filter(
        (name) => !isEnvelope(name),
      ),
    ).toEqual([])
    expect(
      ['SavedQuery', 'QueryLog', 'PageInfoCache', 'ViewerSession', 'PayloadArchive', 'Payload'].filter(isEnvelope),
    ).toEqual([])
  })
})
