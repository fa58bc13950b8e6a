import 'reflect-metadata'
import { getNamedType, GraphQLError, isAbstractType, isIntrospectionType, isObjectType, type GraphQLField, type GraphQLObjectType, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql'
import { createTopics } from '../../src/events/topics'
import { isEnvelope, READ_SCOPES, readScopeOf } from '../../src/graphql/read-scopes'
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

const principalWith = (scopes: readonly Scope[]): Principal => ({ tokenId: 'tok_walker', name: 'walker', scopes: new Set(scopes) })
const everyScopeBut = (scope: Scope) => principalWith(SCOPES.filter((held) => held !== scope))

const objectTypes = () => Object.values(schema.getTypeMap()).filter((type): type is GraphQLObjectType => isObjectType(type) && !isIntrospectionType(type))
const fieldsWhere = (keep: (parent: GraphQLObjectType, field: GraphQLField<unknown, unknown>) => boolean) =>
  objectTypes().flatMap((type) =>
    Object.values(type.getFields())
      .filter((field) => keep(type, field))
      .map((field) => ({ path: `${type.name}.${field.name}`, parent: type, field })),
  )

const codeOf = (error: unknown) => (error instanceof GraphQLError ? error.extensions.code : `not a GraphQLError: ${String(error)}`)
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
  const undeclared = objectTypes().filter((type) => !readScopeOf(type) && !isEnvelope(type.name)).map((type) => type.name)
  expect(undeclared).toEqual([])
  const declaredButAbsent = Object.keys(READ_SCOPES).filter((name) => !isObjectType(schema.getType(name)))
  expect(declaredButAbsent).toEqual([])
  // Every path starts at a root without a scope, so it enters each scoped type through a checked field.
  const scopedEnvelopes = objectTypes().filter((type) => isEnvelope(type.name) && readScopeOf(type)).map((type) => type.name)
  expect(scopedEnvelopes).toEqual([])
})

test('connections and edges are read with their node\'s scope, so totalCount does not leak', () => {
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
    if (denied.touched.length > 0) failures.push(`${path}: the resolver ran without ${scope} (read ${denied.touched.join(', ')})`)
    const allowed = resolveRecording(field, principalWith([scope]))
    if (allowed.error !== undefined && codeOf(allowed.error) === 'FORBIDDEN') failures.push(`${path}: FORBIDDEN with ${scope}`)
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
      for (const type of schema.getPossibleTypes(getNamedType(field.type) as Parameters<GraphQLSchema['getPossibleTypes']>[0])) {
        const scope = readScopeOf(type)!
        const id = `${ID_PREFIXES[type.name as keyof typeof ID_PREFIXES]}_walked`
        const args = { id, ids: [id] }
        const denied = await Promise.resolve(field.resolve!(undefined, args, echoContext(everyScopeBut(scope)), info)).then(
          (value) => (Array.isArray(value) ? value[0] : value),
          (error: unknown) => error,
        )
        expect({ path, type: type.name, code: codeOf(denied) }).toEqual({ path, type: type.name, code: 'FORBIDDEN' })
        const allowed = await field.resolve!(undefined, args, echoContext(principalWith([scope])), info)
        expect({ path, type: type.name, value: Array.isArray(allowed) ? allowed[0] : allowed }).toEqual({ path, type: type.name, value: { id } })
      }
    }
  })
})
