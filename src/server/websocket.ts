import type http from 'node:http'
import { useServer } from 'graphql-ws/use/ws'
import { WebSocketServer } from 'ws'
import type { Principal } from '../tokens/scopes'
import type { OperationGuard } from './operation-guard'
import { checkRequestBounds } from './request-bounds'
import type { Caller, StreamedOperations } from './streamed-operations'

type SocketState = {
  /** The connection's Authorization value, resolved again for every operation. */
  authorization?: unknown
  /** Who runs each operation being prepared or run, and its name (per operation id). */
  callers?: Map<string, { caller: Caller; name: string | undefined }>
  remoteAddress?: string
}

/**
 * GraphQL over WebSocket (graphql-ws) on the HTTP server's /graphql, through the same operation
 * guard as HTTP: every operation (query, mutation, subscription start) is authenticated again
 * and counted against the token's rate limit; documents, limits, masking, logging and the end of
 * a revoked token's subscriptions are the streamed operations' (shared with Server-Sent Events).
 */
export function serveWebSocket(options: {
  httpServer: http.Server
  guard: OperationGuard
  operations: StreamedOperations
}) {
  const { guard, operations } = options
  const wss = new WebSocketServer({ server: options.httpServer, path: '/graphql' })

  const server = useServer<Record<string, unknown>, SocketState>(
    {
      onConnect: async (ctx) => {
        const authorization = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization
        ctx.extra.remoteAddress = ctx.extra.request.socket.remoteAddress
        ctx.extra.callers = new Map()
        if ((await guard.identify(authorization)).kind === 'invalid') return false
        ctx.extra.authorization = authorization
        return true
      },
      onSubscribe: async (ctx, id, payload) => {
        const outOfBounds = checkRequestBounds(payload)
        if (outOfBounds) return [outOfBounds]
        const admission = await guard.admit(ctx.extra.authorization, `ip:${ctx.extra.remoteAddress}`)
        if (!admission.admitted) return [operations.refused(id, 'ws', admission.refusal)]
        const caller = callerOf(id, admission.principal, ctx.extra.authorization)
        const prepared = operations.prepare(payload, caller)
        if (!prepared.ok) return prepared.errors
        ctx.extra.callers!.set(id, { caller, name: prepared.name })
        return prepared.args
      },
      onOperation: (ctx, id, _payload, _args, result) => {
        const { caller, name } = ctx.extra.callers!.get(id)!
        return operations.started(caller, name, result)
      },
      subscribe: operations.subscribe,
      onNext: (_ctx, _id, _payload, _args, result) => operations.masked(result),
      onError: (_ctx, _id, _payload, errors) => operations.maskedErrors(errors),
      onComplete: (ctx, id) => {
        const operation = ctx.extra.callers?.get(id)
        if (operation) operations.completed(operation.caller)
        ctx.extra.callers?.delete(id)
      },
    },
    wss,
  )
  return { wss, dispose: () => server.dispose() }
}

const callerOf = (requestId: string, principal: Principal | null, authorization: unknown): Caller => ({
  requestId,
  transport: 'ws',
  principal,
  authorization,
})
