import type http from 'node:http'
import {
  getOperationAST,
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql'
import { useServer } from 'graphql-ws/use/ws'
import { WebSocketServer } from 'ws'
import type { Context } from '../graphql/context'
import type { Principal } from '../tokens/scopes'
import type { TokenService } from '../tokens/token-service'
import type { Logger } from '../logger'
import type { Metrics } from './observability'
import { refusalError, type OperationGuard } from './operation-guard'
import { checkQueryLimits, type QueryLimits } from './query-limits'
import { checkRequestBounds } from './request-bounds'
import { subscriptionRevocation } from './revocation'

type SocketState = {
  /** The connection's Authorization value, resolved again for every operation. */
  authorization?: unknown
  /** The principal of the operation being prepared or run (per operation id). */
  principals?: Map<string, Principal | null>
  remoteAddress?: string
}

const badInput = (message: string) => [new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } })]

/**
 * GraphQL over WebSocket (graphql-ws) on the HTTP server's /graphql, through the same operation
 * guard as HTTP: every operation (query, mutation, subscription start) is authenticated again
 * and counted against the token's rate limit, documents are checked against the same limits, and
 * every error is masked the same way. A revoked token's live subscriptions end with UNAUTHENTICATED.
 */
export function serveWebSocket(options: {
  httpServer: http.Server
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
  const wss = new WebSocketServer({ server: options.httpServer, path: '/graphql' })

  const server = useServer<Record<string, unknown>, SocketState>(
    {
      schema,
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization
        ctx.extra.remoteAddress = ctx.extra.request.socket.remoteAddress
        ctx.extra.principals = new Map()
        if ((await guard.identify(authorization)).kind === 'invalid') return false
        ctx.extra.authorization = authorization
        return true
      },
      onSubscribe: async (ctx, id, payload) => {
        const outOfBounds = checkRequestBounds(payload)
        if (outOfBounds) return [outOfBounds]
        const admission = await guard.admit(ctx.extra.authorization, `ip:${ctx.extra.remoteAddress}`)
        if (!admission.admitted) {
          logger.info(
            { requestId: id, transport: 'ws', outcome: 'refused', errorCodes: [admission.refusal.code] },
            'graphql operation refused',
          )
          return [refusalError(admission.refusal)]
        }
        let document: DocumentNode
        try {
          document = parse(payload.query)
        } catch (error) {
          return badInput(error instanceof GraphQLError ? error.message : 'The document does not parse.')
        }
        const invalid = validate(schema, document)
        if (invalid.length > 0) return invalid.map((error) => badInput(error.message)[0])
        if (!getOperationAST(document, payload.operationName)) return badInput('Unable to identify the operation.')
        const tooComplex = checkQueryLimits(
          schema,
          document,
          payload.variables ?? undefined,
          payload.operationName,
          limits,
        )
        if (tooComplex) return [tooComplex]
        ctx.extra.principals!.set(id, admission.principal)
        return {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: options.contextFor(admission.principal, id),
        }
      },
      onOperation: (ctx, id, payload, _args, result) => {
        const principal = ctx.extra.principals!.get(id) ?? null
        metrics.subscriptions.inc()
        logger.info(
          {
            requestId: id,
            tokenId: principal?.tokenId ?? null,
            operation: payload.operationName ?? 'anonymous',
            transport: 'ws',
          },
          'operation started',
        )
        if (!principal || !isAsyncIterator(result)) return undefined
        const stillValid = async () => (await guard.identify(ctx.extra.authorization)).kind === 'token'
        return revocation.guard(result, principal.tokenId, stillValid)
      },
      onNext: (_ctx, _id, _payload, _args, result) => guard.maskResult(withInputErrors(result)),
      onError: (_ctx, _id, _payload, errors) => errors.map(guard.maskError),
      onComplete: (ctx, id) => {
        metrics.subscriptions.dec()
        logger.info(
          { requestId: id, tokenId: ctx.extra.principals?.get(id)?.tokenId ?? null, transport: 'ws' },
          'operation completed',
        )
        ctx.extra.principals?.delete(id)
      },
    },
    wss,
  )
  return { wss, dispose: () => server.dispose() }
}

const isAsyncIterator = (value: unknown): value is AsyncIterableIterator<ExecutionResult> =>
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
