import type { ApolloServerPlugin } from '@apollo/server'
import {
  GraphQLError,
  getNamedType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql'
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity'
import { pageSizeOf } from '../graphql/connection'
import { ByteBoundedLru, stringBytes } from './byte-lru'

/**
 * A list field costs the items it returns times what each item selects, so nested pages multiply:
 * `users(first: 200) { groups(first: 20) }` is admitted, 200 x 200 x 200 is not. A connection
 * returns its page size (`first` and `last` both count: the smaller wins, as the page honours both);
 * a list by ids (`nodes(ids:)`) returns one item per id.
 */
const pageEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (getNamedType(field.type).name.endsWith('Connection')) return 1 + pageSizeOf(args) * childComplexity
  if (Array.isArray(args.ids)) return 1 + args.ids.length * childComplexity
  return 1 + childComplexity
}

function depthOf(
  selectionSet: SelectionSetNode | undefined,
  fragments: Map<string, FragmentDefinitionNode>,
  seen = new Set<string>(),
): number {
  if (!selectionSet) return 0
  let deepest = 0
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith('__')) continue // introspection (GraphiQL, codegen) is not limited
      deepest = Math.max(deepest, 1 + depthOf(selection.selectionSet, fragments, seen))
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, depthOf(selection.selectionSet, fragments, seen))
    } else if (!seen.has(selection.name.value)) {
      const fragment = fragments.get(selection.name.value)
      deepest = Math.max(deepest, depthOf(fragment?.selectionSet, fragments, new Set([...seen, selection.name.value])))
    }
  }
  return deepest
}

/** The depth of the deepest field selection in the operation (fields named `__*` excluded). */
export function queryDepth(document: DocumentNode, operationName?: string | null): number {
  const fragments = new Map<string, FragmentDefinitionNode>()
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition)
  }
  const operation = document.definitions.find(
    (definition) =>
      definition.kind === Kind.OPERATION_DEFINITION && (!operationName || definition.name?.value === operationName),
  )
  return operation && operation.kind === Kind.OPERATION_DEFINITION ? depthOf(operation.selectionSet, fragments) : 0
}

export interface QueryLimits {
  maxDepth: number
  maxComplexity: number
}

/** Refuses an operation over the depth or complexity limit before anything executes. */
export function checkQueryLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | null | undefined,
  limits: QueryLimits,
): GraphQLError | undefined {
  const depth = queryDepth(document, operationName)
  if (limits.maxDepth > 0 && depth > limits.maxDepth) {
    return tooComplex(`Query depth ${depth} exceeds the limit of ${limits.maxDepth}.`)
  }
  if (limits.maxComplexity > 0) {
    let complexity: number
    try {
      complexity = getComplexity({
        schema,
        query: document,
        variables,
        operationName: operationName ?? undefined,
        estimators: [pageEstimator],
      })
    } catch {
      return undefined // variables that do not fit their types: execution reports that as BAD_USER_INPUT
    }
    if (complexity > limits.maxComplexity) {
      return tooComplex(`Query complexity ${complexity} exceeds the budget of ${limits.maxComplexity}.`)
    }
  }
  return undefined
}

const tooComplex = (message: string) =>
  new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } } })

// Dashboards send the same document with the same variables again and again, so verdicts are
// remembered by the document's hash, the operation and the variables: only small variables, and
// at most VERDICT_CACHE_BYTES in all, so anonymous requests cannot make the cache grow.
const MAX_REMEMBERED_VARIABLES_CHARS = 1024
const VERDICT_CACHE_BYTES = 1024 * 1024

/** Apollo plugin applying `checkQueryLimits` to every HTTP operation; `cachedBytes()` tells what its verdicts keep. */
export function queryLimitsPlugin(limits: QueryLimits): ApolloServerPlugin & { cachedBytes(): number } {
  /** The refusal message for a document, operation and variables, or '' when admitted. */
  const verdicts = new ByteBoundedLru<string>(VERDICT_CACHE_BYTES)
  return {
    cachedBytes: () => verdicts.bytes,
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request, operationName, queryHash }) {
          const variables = JSON.stringify(request.variables ?? {})
          const key =
            variables.length <= MAX_REMEMBERED_VARIABLES_CHARS
              ? `${queryHash}\u0000${operationName ?? ''}\u0000${variables}`
              : undefined
          let refusal = key === undefined ? undefined : verdicts.get(key)
          if (refusal === undefined) {
            refusal = checkQueryLimits(schema, document, request.variables, operationName, limits)?.message ?? ''
            if (key !== undefined) verdicts.set(key, refusal, stringBytes(key) + stringBytes(refusal))
          }
          if (refusal) throw tooComplex(refusal)
        },
      }
    },
  }
}
