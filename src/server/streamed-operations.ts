import {
  getOperationAST,
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationTypeNode,
} from 'graphql'
import type { Context } from '../graphql/context'
import type { Logger } from '../logger'
import type { Principal } from '../tokens/scopes'
import type { TokenService } from '../tokens/token-service'
import type { Metrics } from './observability'
import type { OperationGuard, Refusal } from './operation-guard'
import { refusalError } from './operation-guard'
import { checkQueryLimits, type QueryLimits } from './query-limits'
import { subscriptionRevocation } from './revocation'
import { shareKey, sharedSubscriptions } from './shared-subscriptions'

/** The transports that run operations outside Apollo, named in logs. */
export type Transport = 'ws' | 'sse'

/** One operation as a streaming transport received it. */
export interface OperationPayload {
  query: string
  variables?: Record<string, unknown> | null
  operationName?: string | null
}

/** Who runs an operation, and how to check again that they still may (their token is resolved anew). */
export interface Caller {
  requestId: string
  transport: Transport
  principal: Principal | null
  authorization: unknown
}

export type Prepared =
  | {
      ok: true
      args: ExecutionArgs & { document: DocumentNode }
      operation: OperationTypeNode
      /** The operation's name, from the request or else the document (for logs). */
      name: string | undefined
    }
  | { ok: false; errors: GraphQLError[] }

export type Results = AsyncIterableIterator<ExecutionResult>

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } })

/**
 * What the WebSocket and Server-Sent Events transports share, so both run operations exactly as
 * HTTP does: the same input bounds, document validation and query limits before anything runs,
 * the same error masking, the same log lines and subscription gauge, and the end of a revoked
 * token's subscriptions. Authentication and the rate limit are the operation guard's (HTTP's too).
 */
export function streamedOperations(options: {
  schema: GraphQLSchema
  guard: OperationGuard
  tokens: TokenService
  limits: QueryLimits
  contextFor(principal: Principal | null, requestId: string): Context
  logger: Logger
  metrics: Metrics
}) {
  const { schema, guard, limits, logger, metrics } = options
  const revocation = subscriptionRevocation(options.tokens)
  const shared = sharedSubscriptions()
  /**
   * Whether an authorization still authenticates, asked once per turn of the event loop however
   * many subscriptions ask: one published event reaches them all in the same turn.
   */
  const checks = new Map<unknown, { pending: Promise<boolean>; valid?: boolean }>()
  /** The answer itself once known in this turn (no await for the other subscribers), else its promise. */
  const stillValid = (authorization: unknown): boolean | Promise<boolean> => {
    let check = checks.get(authorization)
    if (!check) {
      if (checks.size === 0) setImmediate(() => checks.clear())
      const pending = guard.identify(authorization).then((identity) => (check!.valid = identity.kind === 'token'))
      checks.set(authorization, (check = { pending }))
    }
    return check.valid ?? check.pending
  }

  return {
    /**
     * Checks an admitted payload (parse, validation, one operation, depth and complexity) into the
     * arguments to run it with. Its size was checked before admission (`checkRequestBounds`), as on HTTP.
     */
    prepare(payload: OperationPayload, caller: Caller): Prepared {
      let document: DocumentNode
      try {
        document = parse(payload.query)
      } catch (error) {
        return {
          ok: false,
          errors: [badInput(error instanceof GraphQLError ? error.message : 'The document does not parse.')],
        }
      }
      const invalid = validate(schema, document)
      if (invalid.length > 0) return { ok: false, errors: invalid.map((error) => badInput(error.message)) }
      const operation = getOperationAST(document, payload.operationName)
      if (!operation) return { ok: false, errors: [badInput('Unable to identify the operation.')] }
      const variables = payload.variables ?? undefined
      const tooComplex = checkQueryLimits(schema, document, variables, payload.operationName, limits)
      if (tooComplex) return { ok: false, errors: [tooComplex] }
      const args = {
        schema,
        document,
        operationName: payload.operationName,
        variableValues: variables,
        contextValue: options.contextFor(caller.principal, caller.requestId),
      }
      shared.share(args, shareKey(payload.query, payload.operationName, variables, caller.principal?.scopes ?? []))
      return { ok: true, operation: operation.operation, name: payload.operationName ?? operation.name?.value, args }
    },

    /** Starts a prepared subscription; subscribers of one operation with the same scopes share each event's execution. */
    subscribe: shared.subscribe,

    /** Logs a refused operation; the refusal as a GraphQL error. */
    refused(requestId: string, transport: Transport, refusal: Refusal): GraphQLError {
      logger.info({ requestId, transport, outcome: 'refused', errorCodes: [refusal.code] }, 'graphql operation refused')
      return refusalError(refusal)
    },

    /**
     * Counts and logs an operation that started; a subscription's results are returned ended by
     * UNAUTHENTICATED once its token is revoked (and each event is sent only while it still authenticates).
     */
    started<R>(caller: Caller, operationName: string | undefined, result: R): R | Results {
      metrics.subscriptions.inc()
      logger.info(
        {
          requestId: caller.requestId,
          tokenId: caller.principal?.tokenId ?? null,
          operation: operationName ?? 'anonymous',
          transport: caller.transport,
        },
        'operation started',
      )
      if (!caller.principal || !isAsyncIterator(result)) return result
      return revocation.guard(result, caller.principal.tokenId, () => stillValid(caller.authorization))
    },

    /** A result as sent to the client: catalogued codes kept, everything else masked as INTERNAL. */
    masked(result: ExecutionResult): FormattedExecutionResult {
      return guard.maskResult(withInputErrors(result))
    },

    maskedErrors(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
      return errors.map(guard.maskError)
    },

    /** Counts and logs an operation that ended (completed, unsubscribed or cut off). */
    completed(caller: Pick<Caller, 'requestId' | 'transport' | 'principal'>): void {
      metrics.subscriptions.dec()
      logger.info(
        { requestId: caller.requestId, tokenId: caller.principal?.tokenId ?? null, transport: caller.transport },
        'operation completed',
      )
    },
  }
}

export type StreamedOperations = ReturnType<typeof streamedOperations>

export const isAsyncIterator = (value: unknown): value is Results =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'

/**
 * A result without `data` whose errors have no path failed before anything executed: its variables
 * did not coerce. Like HTTP (Apollo), that is BAD_USER_INPUT rather than masked as INTERNAL.
 */
function withInputErrors(result: ExecutionResult): ExecutionResult {
  if ('data' in result || !result.errors) return result
  return {
    ...result,
    errors: result.errors.map((error) =>
      error.path || error.extensions.code
        ? error
        : new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT' } }),
    ),
  }
}
