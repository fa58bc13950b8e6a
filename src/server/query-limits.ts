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
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../graphql/connection'

/**
 * A list field costs its page size times what each item selects, so nested pages multiply:
 * `users(first: 200) { groups(first: 20) }` is admitted, 200 x 200 x 200 is not.
 */
const pageEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (!getNamedType(field.type).name.endsWith('Connection')) return 1 + childComplexity
  const requested = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : DEFAULT_PAGE_SIZE
  return 1 + Math.max(0, Math.min(requested, MAX_PAGE_SIZE)) * childComplexity
}

function depthOf(selectionSet: SelectionSetNode | undefined, fragments: Map<string, FragmentDefinitionNode>, seen = new Set<string>()): number {
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
    (definition) => definition.kind === Kind.OPERATION_DEFINITION && (!operationName || definition.name?.value === operationName),
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
      complexity = getComplexity({ schema, query: document, variables, operationName: operationName ?? undefined, estimators: [pageEstimator] })
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

// Dashboards send the same document with the same variables again and again; Apollo hands us
// the same parsed document each time, so its verdicts are kept with it (a few per document).
const VERDICTS_PER_DOCUMENT = 32

/** Apollo plugin applying `checkQueryLimits` to every HTTP operation. */
export function queryLimitsPlugin(limits: QueryLimits): ApolloServerPlugin {
  /** Per document: the refusal message for an operation and its variables, or undefined when admitted. */
  const verdicts = new WeakMap<DocumentNode, Map<string, string | undefined>>()
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request, operationName }) {
          const known = verdicts.get(document) ?? new Map<string, string | undefined>()
          verdicts.set(document, known)
          const key = `${operationName ?? ''}\u0000${JSON.stringify(request.variables ?? {})}`
          if (!known.has(key)) {
            if (known.size >= VERDICTS_PER_DOCUMENT) known.clear()
            known.set(key, checkQueryLimits(schema, document, request.variables, operationName, limits)?.message)
          }
          const refusal = known.get(key)
          if (refusal) throw tooComplex(refusal)
        },
      }
    },
  }
}
