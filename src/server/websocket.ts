import type http from 'node:http'
import { CloseCode, handleProtocols, makeServer } from 'graphql-ws'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Logger } from '../logger'
import type { Principal } from '../tokens/scopes'
import type { OperationGuard } from './operation-guard'
import { checkRequestBounds, MAX_REQUEST_BYTES } from './request-bounds'
import type { Caller, StreamedOperations } from './streamed-operations'

type SocketState = {
  /** The connection's Authorization value, resolved again for every operation. */
  authorization?: unknown
  /** Who runs each operation being prepared or run, and its name (per operation id). */
  callers?: Map<string, { caller: Caller; name: string | undefined }>
  remoteAddress?: string
}

/** graphql-ws's `extra` on this transport: the socket, the upgrade request and the state above. */
type Extra = { socket: WebSocket; request: http.IncomingMessage } & SocketState

/** A socket with this many bytes queued in the process makes the next message wait until they are written. */
const SEND_HIGH_WATER_BYTES = 64 * 1024
/** A ping every this often; a socket that has not answered the previous one by the next is closed. */
const KEEP_ALIVE_MS = 12_000

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
  logger: Logger
}) {
  const { guard, operations } = options
  // ws would read a message of up to 100 MiB, even from a connection that never authenticates.
  const wss = new WebSocketServer({ server: options.httpServer, path: '/graphql', maxPayload: MAX_REQUEST_BYTES })

  const server = makeServer<Record<string, unknown>, Extra>({
    // Every connection is accepted: each operation is authenticated when it starts, so an unknown or
    // revoked token gets UNAUTHENTICATED as on HTTP, not a close code (graphql-ws's 4403 reads as FORBIDDEN).
    onConnect: (ctx) => {
      ctx.extra.authorization = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization
      ctx.extra.remoteAddress = ctx.extra.request.socket.remoteAddress
      ctx.extra.callers = new Map()
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
  })
  wss.options.handleProtocols = handleProtocols
  // ws passes on the HTTP server's errors (a port in use, a failed accept): unheard, they would be
  // thrown and end the process. The HTTP server's own listeners decide what they mean.
  wss.on('error', (error) => options.logger.warn({ err: error }, 'the HTTP server behind the WebSocket failed'))
  wss.on('connection', (socket, request) => serveSocket(server, socket, request, options.logger))
  return {
    wss,
    dispose() {
      for (const socket of wss.clients) socket.close(1001, 'Going away')
      return new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())))
    },
  }
}

/**
 * One connection handed to graphql-ws's protocol server. Written here rather than taken from
 * `graphql-ws/use/ws`, whose `send` waits for every message's write callback (a promise, a callback
 * and a tick per message per subscriber); this one waits only while the socket has a backlog, which
 * keeps the pace the same for a client that stops reading: its subscription's bounded buffer fills.
 */
function serveSocket(
  server: ReturnType<typeof makeServer<Record<string, unknown>, Extra>>,
  socket: WebSocket,
  request: http.IncomingMessage,
  logger: Logger,
) {
  // A socket error is the client's (an oversized or malformed frame: ws closes with its own code);
  // a failure handling a message is ours. The client sees only the close code either way.
  const closeAfter = (level: 'warn' | 'error', message: string) => (error: unknown) => {
    logger[level]({ err: error }, message)
    socket.close(CloseCode.InternalServerError, 'Internal server error')
  }
  socket.once('error', closeAfter('warn', 'WebSocket client error'))
  const closeOnError = closeAfter('error', 'handling a WebSocket message failed')
  let answered = true
  const keepAlive = setInterval(() => {
    if (!answered) return socket.terminate()
    answered = false
    socket.ping()
  }, KEEP_ALIVE_MS)
  socket.on('pong', () => (answered = true))
  const closed = server.opened(
    {
      protocol: socket.protocol,
      send(data) {
        if (socket.readyState !== socket.OPEN) return
        if (socket.bufferedAmount < SEND_HIGH_WATER_BYTES) return socket.send(data)
        return new Promise<void>((resolve, reject) => socket.send(data, (error) => (error ? reject(error) : resolve())))
      },
      close: (code, reason) => socket.close(code, reason),
      onMessage: (handle) =>
        socket.on('message', (message) => {
          handle(String(message)).catch(closeOnError)
        }),
    },
    { socket, request } as Extra,
  )
  socket.once('close', (code, reason) => {
    clearInterval(keepAlive)
    void closed(code, String(reason))
  })
}

const callerOf = (requestId: string, principal: Principal | null, authorization: unknown): Caller => ({
  requestId,
  transport: 'ws',
  principal,
  authorization,
})
