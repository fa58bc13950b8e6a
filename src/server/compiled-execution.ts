import type { ApolloServerOptionsWithGateway, BaseContext } from '@apollo/server'
import {
  defaultFieldResolver,
  defaultTypeResolver,
  execute,
  getNamedType,
  getOperationAST,
  GraphQLError,
  GraphQLInterfaceType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLUnionType,
  isAbstractType,
  isInterfaceType,
  isIntrospectionType,
  isListType,
  isNonNullType,
  isObjectType,
  isUnionType,
  print,
  printSchema,
  visit,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLAbstractType,
  type GraphQLFieldConfigMap,
  type GraphQLFieldResolver,
  type GraphQLTypeResolver,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLType,
} from 'graphql'
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit'
import { ByteBoundedLru, stringBytes } from './byte-lru'

/**
 * Optional compiled execution: graphql-jit compiles each document once into a function and
 * runs that instead of graphql-js's interpreter. Apollo Server 5 has no `executor` option; its
 * `gateway` option takes an object whose `load()` returns `{ schema, executor }`, so that is where
 * the compiled executor plugs in. Apollo still parses, validates, runs the plugins (the query
 * limits in didResolveOperation included) and formats errors; only execution changes.
 *
 * Documents the compiler refuses (or throws on), and subscriptions, run through graphql-js.
 */

type Gateway = ApolloServerOptionsWithGateway<BaseContext>['gateway']
type GatewayExecutor = NonNullable<Awaited<ReturnType<Gateway['load']>>['executor']>

export interface ExecuteArgs {
  document: DocumentNode
  /** The document's source text; the cache key (printed from `document` when absent). */
  query?: string
  operationName?: string | null
  variables?: Record<string, unknown> | null
  contextValue: unknown
  rootValue?: unknown
}

export interface CompiledExecutionOptions {
  /**
   * Bytes of compiled documents kept (least recently used dropped first), counting each document's
   * text and its generated code; default 32 MB.
   */
  cacheBytes?: number
  /** Told once per cached document that graphql-js runs, with the reason (e.g. to log at debug). */
  onFallback?: (info: { operationName: string | null; reason: string }) => void
  /**
   * Which fields without a resolver get graphql-js's default resolver (calls a function-valued
   * property, e.g. a connection's `totalCount` thunk) instead of graphql-jit's plain property
   * read. Default: all of them, the only choice that matches graphql-js whatever resolvers return.
   */
  callFunctionValues?: boolean | ((typeName: string, fieldName: string) => boolean)
}

export interface CompiledExecutor {
  (args: ExecuteArgs): Promise<ExecutionResult>
  /** Documents in the cache, how many compiled, how many run through graphql-js, and their estimated bytes. */
  stats(): { cached: number; compiled: number; fallbacks: number; bytes: number }
}

type Plan = { kind: 'compiled'; run: CompiledQuery['query'] } | { kind: 'fallback'; reason: string }

// graphql-jit generates about 1.1-1.5 KB of code per field it compiles (measured: 9 KB for a
// six-field query, 450 KB for 400 aliased fields), 100 times the document's own text.
const CODE_BYTES_PER_FIELD = 2048

/** What a cached plan keeps alive, estimated: its key (the document text) and its generated code. */
function planBytes(key: string, document: DocumentNode, plan: Plan): number {
  if (plan.kind === 'fallback') return stringBytes(key) + stringBytes(plan.reason)
  let fields = 0
  visit(document, { Field: () => void fields++ })
  return stringBytes(key) + fields * CODE_BYTES_PER_FIELD
}

/**
 * graphql-jit reports execution errors as its own GraphQLError subclass: no `nodes`, and
 * `extensions` undefined when the cause has none (Apollo's error formatting then fails and
 * bypasses formatError). Rebuilds each one as graphql-js's `locatedError` would have made it,
 * so formatError sees the same `extensions`, `path`, `locations` and `originalError`.
 */
function asGraphQLJsError(error: GraphQLError): GraphQLError {
  const cause: unknown = error.originalError
  // graphql-js passes on, unchanged, a GraphQLError a resolver threw that already has a path.
  if (cause instanceof GraphQLError && Array.isArray(cause.path)) return cause
  const rebuilt = new GraphQLError(error.message, {
    path: error.path,
    // graphql-js wraps every execution failure (a null in a non-null field too) around an Error.
    originalError: cause instanceof Error ? cause : new Error(error.message),
  })
  ;(rebuilt as { locations?: GraphQLError['locations'] }).locations = error.locations
  return rebuilt
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null
const isPromiseLike = (value: unknown): value is PromiseLike<unknown> =>
  isObject(value) && typeof (value as { then?: unknown }).then === 'function'
const isIterable = (value: unknown): value is Iterable<unknown> =>
  isObject(value) && typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function'
const asError = (error: unknown) => (error instanceof Error ? error : new Error(String(error)))

/** Type names resolved ahead (see `resolvingTypesFirst`), per request context, then per value. */
type ResolvedTypes = WeakMap<object, WeakMap<object, unknown>>

/**
 * graphql-jit calls an abstract type's `resolveType` synchronously and cannot wait for a promise;
 * type-graphql's (e.g. `Node`'s) is async. So the resolver of each field returning an interface
 * or union resolves the type of every value it returns first, the way graphql-js would
 * (`resolveType`, else graphql-js's default type resolver), and remembers it for the synchronous
 * `resolveType` below. A list item that fails (or whose type fails to resolve) becomes an Error
 * value, which both executors report at that item's path, as graphql-js does.
 */
function resolvingTypesFirst(
  resolve: GraphQLFieldResolver<unknown, unknown>,
  returnType: GraphQLOutputType,
  abstractType: GraphQLAbstractType,
  resolved: ResolvedTypes,
): GraphQLFieldResolver<unknown, unknown> {
  const typeResolver: GraphQLTypeResolver<unknown, unknown> = abstractType.resolveType ?? defaultTypeResolver
  return (source, args, context, info) => {
    const settle = async (pending: unknown, type: GraphQLOutputType): Promise<unknown> => {
      const value = isPromiseLike(pending) ? await pending : pending
      const nullable = isNonNullType(type) ? type.ofType : type
      if (value == null || value instanceof Error) return value
      if (isListType(nullable)) {
        if (!isIterable(value)) return value // the executor reports "Expected Iterable"
        return Promise.all(Array.from(value, (item) => settle(item, nullable.ofType).catch(asError)))
      }
      const typeName = await typeResolver(value, context, info, abstractType)
      if (isObject(context) && isObject(value)) {
        let byValue = resolved.get(context)
        if (!byValue) resolved.set(context, (byValue = new WeakMap()))
        byValue.set(value, typeName)
      }
      return value
    }
    return settle(resolve(source, args, context, info), returnType)
  }
}

/**
 * graphql-jit reads a field without a resolver as a plain property; graphql-js's default
 * resolver calls the property when it is a function (`totalCount: () => Promise<number>` on
 * every connection here). This copy of the schema, used only to compile, gives the chosen
 * resolver-less fields graphql-js's default resolver, and abstract types a synchronous
 * `resolveType` (above). Object, interface and union types are rebuilt (they reference each
 * other); scalars, enums, input types and directives are shared with the original.
 */
function schemaForCompiling(
  schema: GraphQLSchema,
  chosen: (typeName: string, fieldName: string) => boolean,
): GraphQLSchema {
  const rebuilt = new Map<string, GraphQLNamedType>()
  const resolved: ResolvedTypes = new WeakMap()
  const named = <T extends GraphQLNamedType>(type: T): T => (rebuilt.get(type.name) as T | undefined) ?? type
  const reference = <T extends GraphQLType>(type: T): T => {
    if (isListType(type)) return new GraphQLList(reference(type.ofType)) as T
    if (isNonNullType(type)) return new GraphQLNonNull(reference(type.ofType)) as T
    return named(type as GraphQLNamedType) as T
  }
  const fields =
    <S, C>(typeName: string, config: GraphQLFieldConfigMap<S, C>, ofObjectType: boolean) =>
    () =>
      Object.fromEntries(
        Object.entries(config).map(([name, field]) => {
          let resolve = field.resolve as GraphQLFieldResolver<unknown, unknown> | undefined
          if (ofObjectType) {
            const returned = getNamedType(field.type)
            if (isAbstractType(returned))
              resolve = resolvingTypesFirst(resolve ?? defaultFieldResolver, field.type, returned, resolved)
            else if (!resolve && chosen(typeName, name)) resolve = defaultFieldResolver
          }
          return [name, { ...field, type: reference(field.type), resolve }]
        }),
      ) as GraphQLFieldConfigMap<S, C>
  const syncResolveType =
    (original: GraphQLAbstractType): GraphQLTypeResolver<unknown, unknown> =>
    (value, context, info, abstractType) => {
      const known = isObject(context) && isObject(value) ? resolved.get(context)?.get(value) : undefined
      return (known ?? (original.resolveType ?? defaultTypeResolver)(value, context, info, abstractType)) as
        string | undefined
    }

  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type)) continue
    if (isObjectType(type)) {
      const config = type.toConfig()
      rebuilt.set(
        type.name,
        new GraphQLObjectType({
          ...config,
          interfaces: () => config.interfaces.map(named),
          fields: fields(type.name, config.fields, true),
        }),
      )
    } else if (isInterfaceType(type)) {
      const config = type.toConfig()
      rebuilt.set(
        type.name,
        new GraphQLInterfaceType({
          ...config,
          resolveType: syncResolveType(type),
          interfaces: () => config.interfaces.map(named),
          fields: fields(type.name, config.fields, false),
        }),
      )
    } else if (isUnionType(type)) {
      const config = type.toConfig()
      rebuilt.set(
        type.name,
        new GraphQLUnionType({ ...config, resolveType: syncResolveType(type), types: () => config.types.map(named) }),
      )
    }
  }
  const config = schema.toConfig()
  return new GraphQLSchema({
    ...config,
    query: config.query && named(config.query),
    mutation: config.mutation && named(config.mutation),
    subscription: config.subscription && named(config.subscription),
    types: config.types.map(named),
  })
}

/** Compiles each document once (LRU cache bounded in bytes) and executes it; graphql-js for what does not compile. */
export function createCompiledExecutor(
  schema: GraphQLSchema,
  options: CompiledExecutionOptions = {},
): CompiledExecutor {
  const cache = new ByteBoundedLru<Plan>(options.cacheBytes ?? 32 * 1024 * 1024)
  const callFunctionValues = options.callFunctionValues ?? true
  const compileSchema =
    callFunctionValues === false
      ? schema
      : schemaForCompiling(schema, callFunctionValues === true ? () => true : callFunctionValues)

  const plan = (document: DocumentNode, operationName: string | null | undefined): Plan => {
    const operation = getOperationAST(document, operationName)
    if (operation?.operation === 'subscription') return { kind: 'fallback', reason: 'subscription' }
    try {
      const compiled = compileQuery(compileSchema, document, operationName ?? undefined, {
        customJSONSerializer: false,
      })
      if (isCompiledQuery(compiled)) return { kind: 'compiled', run: compiled.query }
      return { kind: 'fallback', reason: compiled.errors?.map((error) => error.message).join('; ') || 'not compiled' }
    } catch (error) {
      return { kind: 'fallback', reason: error instanceof Error ? error.message : String(error) }
    }
  }

  const viaGraphQLJs = (args: ExecuteArgs) =>
    execute({
      schema,
      document: args.document,
      rootValue: args.rootValue,
      contextValue: args.contextValue,
      variableValues: args.variables ?? undefined,
      operationName: args.operationName ?? undefined,
    })

  const executor = async (args: ExecuteArgs): Promise<ExecutionResult> => {
    const key = `${args.operationName ?? ''}\n${args.query ?? print(args.document)}`
    let chosen = cache.get(key)
    if (!chosen) {
      chosen = plan(args.document, args.operationName)
      cache.set(key, chosen, planBytes(key, args.document, chosen))
      if (chosen.kind === 'fallback')
        options.onFallback?.({ operationName: args.operationName ?? null, reason: chosen.reason })
    }
    if (chosen.kind === 'fallback') return viaGraphQLJs(args)

    const result = await chosen.run(args.rootValue, args.contextValue, args.variables ?? {})
    // No `data` at all: the variables did not coerce and nothing ran. graphql-js reports that with
    // the variable definition as the error's node (Apollo's BAD_USER_INPUT and HTTP 400 rely on it).
    if (result.data === undefined) return viaGraphQLJs(args)
    if (!result.errors?.length) return { data: result.data }
    return { data: result.data, errors: result.errors.map(asGraphQLJsError) }
  }

  return Object.assign(executor, {
    stats() {
      let compiled = 0
      for (const entry of cache.values()) if (entry.kind === 'compiled') compiled++
      return { cached: cache.size, compiled, fallbacks: cache.size - compiled, bytes: cache.bytes }
    },
  })
}

/**
 * A fixed-schema "gateway" for `new ApolloServer({ gateway: compiledGateway(schema), ... })`
 * in place of `schema`: Apollo takes the schema from it (parse, validation, plugins) and runs
 * every operation through the compiled executor.
 */
export function compiledGateway(
  schema: GraphQLSchema,
  options: CompiledExecutionOptions = {},
): Gateway & { executor: CompiledExecutor } {
  const executor = createCompiledExecutor(schema, options)
  const listeners = new Set<Parameters<Gateway['onSchemaLoadOrUpdate']>[0]>()
  let sdl: string | undefined
  const gatewayExecutor: GatewayExecutor = (requestContext) =>
    executor({
      document: requestContext.document,
      query: requestContext.request.query ?? requestContext.source,
      operationName: requestContext.request.operationName ?? null,
      variables: requestContext.request.variables ?? null,
      contextValue: requestContext.context,
    }) as ReturnType<GatewayExecutor>

  return {
    executor,
    onSchemaLoadOrUpdate(callback) {
      listeners.add(callback)
      return () => void listeners.delete(callback)
    },
    async load() {
      // Apollo's schema manager needs the schema before load() resolves (it reads it right after).
      sdl ??= printSchema(schema)
      for (const listener of listeners) listener({ apiSchema: schema, coreSupergraphSdl: sdl })
      return { executor: gatewayExecutor }
    },
    async stop() {
      listeners.clear()
    },
  }
}
