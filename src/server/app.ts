import { randomUUID } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { ApolloServer } from '@apollo/server'
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled'
import { expressMiddleware } from '@as-integrations/express5'
import express, { type NextFunction, type Request, type Response } from 'express'
import type { GraphQLSchema } from 'graphql'
import type { WebSocket } from 'ws'
import { SYSTEM_ACTOR, type Actor } from '../events/event-log'
import type { EventStreams } from '../events/event-stream'
import type { PubSub } from '../events/topics'
import type { Context } from '../graphql/context'
import { createLoaders } from '../graphql/loaders'
import { createSchema } from '../graphql/schema'
import type { Application } from '../app'
import type { Services } from '../services'
import type { Principal } from '../tokens/scopes'
import { compiledGateway } from './compiled-execution'
import { drainHttpServer } from './drain'
import { drainBudgetMs } from './shutdown'
import { formatError, sendError } from './errors'
import { observabilityPlugin } from './observability'
import { dashboardRouter } from './dashboard'
import { graphiqlRouter } from './graphiql'
import { createOperationGuard } from './operation-guard'
import { queryLimitsPlugin } from './query-limits'
import { subscriptionsOverHttpPlugin } from './subscriptions-over-http'
import { requestBudgets } from './request-budgets'
import { checkRequestBounds, MAX_REQUEST_BYTES } from './request-bounds'
import { authenticate } from './request-auth'
import { serveEventStreams } from './event-stream'
import { streamedOperations } from './streamed-operations'
import { serveWebSocket } from './websocket'

export interface RunningServer {
  url: string
  port: number
  /** Where /metrics is served without a token, when METRICS_PORT is set. */
  metricsUrl: string | null
  services: Services
  pubSub: PubSub
  streams: EventStreams
  schema: GraphQLSchema
  /** The open graphql-ws connections (tests cut them to see clients reconnect and resume). */
  webSockets: ReadonlySet<WebSocket>
  close(): Promise<void>
}

const actorOf = (principal: Principal | null): Actor =>
  principal ? { id: principal.tokenId, type: 'ApiToken', displayName: principal.name } : SYSTEM_ACTOR

type AuthenticatedRequest = Request & { principal?: Principal | null; requestId?: string }

/** Starts the HTTP + WebSocket server on a composed application (src/app.ts). */
export async function startServer(application: Application): Promise<RunningServer> {
  const { config, db, logger, pubSub, services, metrics } = application
  // Subscribers here receive what every process commits.
  await application.relay.start()
  const schema = await createSchema(pubSub)
  const limits = { maxDepth: config.MAX_QUERY_DEPTH, maxComplexity: config.MAX_QUERY_COMPLEXITY }
  // One guard for every transport: authentication per operation, rate limit, error masking.
  const guard = createOperationGuard({
    tokens: services.tokens,
    rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
    budgets: requestBudgets(db, config.RATE_LIMIT_PER_MINUTE),
    logger,
  })

  const contextFor = (principal: Principal | null, requestId: string): Context => ({
    principal,
    actor: actorOf(principal),
    db,
    config,
    services,
    loaders: createLoaders(db.prisma, services.counters),
    pubSub,
    streams: application.streams,
    requestId,
  })

  const app = express()
  app.disable('x-powered-by')
  const httpServer = http.createServer(app)
  const sendMetrics = async (res: Response) => {
    res.setHeader('content-type', metrics.registry.contentType)
    res.send(await metrics.registry.metrics())
  }
  // Without METRICS_PORT, /metrics is on the API port behind a token with metrics:read.
  app.get('/metrics', async (req, res) => {
    const authentication = await authenticate(services.tokens, req.headers.authorization)
    if (authentication.kind !== 'token')
      return void sendError(req, res, 401, 'UNAUTHENTICATED', 'A token with metrics:read is required.')
    if (!authentication.principal.scopes.has('metrics:read'))
      return void sendError(req, res, 403, 'FORBIDDEN', 'This token lacks the scope metrics:read.')
    await sendMetrics(res)
  })

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }))
  let draining = false
  app.get('/readyz', async (_req, res) => {
    if (draining) return void res.status(503).json({ status: 'draining', database: db.kind })
    try {
      await db.ping()
      res.json({ status: 'ready', database: db.kind })
    } catch (error) {
      logger.warn({ err: error }, 'readiness check failed')
      res.status(503).json({ status: 'unavailable', database: db.kind })
    }
  })
  app.use(graphiqlRouter())
  app.use(dashboardRouter())

  app.use('/graphql', (req, res, next) => {
    const origin = req.headers.origin
    if (origin && config.CORS_ORIGINS.includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin)
      res.vary('Origin')
      res.setHeader('Access-Control-Allow-Headers', 'authorization, content-type, apollo-require-preflight')
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS')
      if (req.method === 'OPTIONS') return void res.status(204).end()
    }
    next()
  })
  app.use('/graphql', express.json({ limit: MAX_REQUEST_BYTES }))
  app.use('/graphql', (req: Request, res: Response, next: NextFunction) => {
    const request = req.method === 'GET' ? req.query : req.body
    const outOfBounds = request && typeof request === 'object' ? checkRequestBounds(request) : undefined
    if (outOfBounds) return void sendError(req, res, 400, 'BAD_USER_INPUT', outOfBounds.message)
    next()
  })
  app.use('/graphql', async (req: AuthenticatedRequest, res: Response, next: NextFunction) => {
    try {
      req.requestId = String(req.headers['x-request-id'] ?? randomUUID())
      res.setHeader('x-request-id', req.requestId)
      const admission = await guard.admit(req.headers.authorization, `ip:${req.ip}`)
      if (!admission.admitted) {
        const { refusal } = admission
        if (refusal.retryAfter !== undefined) res.setHeader('Retry-After', String(refusal.retryAfter))
        return void sendError(req, res, refusal.httpStatus, refusal.code, refusal.message)
      }
      req.principal = admission.principal
      next()
    } catch (error) {
      next(error)
    }
  })
  // WebSocket and Server-Sent Events run operations the same way (documents, limits, masking, logs, revocation).
  const operations = streamedOperations({ schema, guard, tokens: services.tokens, limits, contextFor, logger, metrics })
  const eventStreams = serveEventStreams(operations, logger)
  app.use('/graphql/stream', eventStreams.route)

  const apollo = new ApolloServer<Context>({
    // Compiled execution (graphql-jit) is opt-in; documents it refuses run through graphql-js.
    ...(config.COMPILED_EXECUTION
      ? {
          gateway: compiledGateway(schema, {
            onFallback: (info) => logger.debug(info, 'operation runs through graphql-js'),
          }),
        }
      : { schema }),
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // main.ts owns SIGTERM/SIGINT. Apollo's own handler would call stop() first, and a second,
    // concurrent stop() never returns (Apollo 5.5 never resolves its stop barrier on success).
    stopOnTerminationSignals: false,
    formatError: formatError(logger),
    plugins: [
      observabilityPlugin(logger, metrics),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      subscriptionsOverHttpPlugin(),
      queryLimitsPlugin(limits),
      {
        async serverWillStart() {
          return {
            // Subscribers are told to reconnect elsewhere and resume from their last cursor.
            async drainServer() {
              draining = true
              for (const socket of webSocket.wss.clients)
                socket.close(1012, 'Server restarting: reconnect and resume from your last cursor')
              await Promise.all([
                drainHttpServer(httpServer, drainBudgetMs(config.SHUTDOWN_TIMEOUT_MS)),
                webSocket.dispose(),
                eventStreams.dispose(),
              ])
            },
          }
        },
      },
    ],
  })

  const webSocket = serveWebSocket({ httpServer, guard, operations, logger })

  await apollo.start()
  app.use(
    '/graphql',
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const request = req as AuthenticatedRequest
        return contextFor(request.principal ?? null, request.requestId ?? randomUUID())
      },
    }),
  )
  // Bad JSON and other failures before GraphQL: a GraphQL-shaped body, never an HTML error page.
  app.use((error: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    if (error.type === 'entity.parse.failed' || error.status === 400) {
      return void sendError(req, res, 400, 'BAD_USER_INPUT', 'The request body is not valid JSON.')
    }
    // body-parser's refusals: 413 over the size limit, 415 an unknown charset or content-encoding.
    if (error.status === 413 || error.status === 415)
      return void sendError(req, res, error.status, 'BAD_USER_INPUT', error.message)
    logger.error({ err: error }, 'request failed')
    sendError(req, res, 500, 'INTERNAL', 'Internal server error.')
  })

  await listening(httpServer, config.PORT, config.HOST)
  const { port } = httpServer.address() as AddressInfo
  const metricsServer =
    config.METRICS_PORT === undefined ? null : await serveMetricsOnly(config.HOST, config.METRICS_PORT, sendMetrics)
  return {
    url: `http://${config.HOST}:${port}/graphql`,
    port,
    metricsUrl: metricsServer ? `http://${config.HOST}:${(metricsServer.address() as AddressInfo).port}/metrics` : null,
    services,
    pubSub,
    streams: application.streams,
    schema,
    webSockets: webSocket.wss.clients,
    /** Stops accepting, finishes in-flight requests (bounded by SHUTDOWN_TIMEOUT_MS), closes subscriptions. */
    async close() {
      await apollo.stop()
      await application.relay.stop()
      // A scraper's keep-alive connection would hold close() open; a cut scrape is simply retried.
      if (metricsServer)
        await new Promise((resolve) => (metricsServer.close(resolve), metricsServer.closeAllConnections()))
    },
  }
}

/** A port that serves only /metrics, without a token (bind it where only scrapers reach). */
async function serveMetricsOnly(host: string, port: number, send: (res: Response) => Promise<void>) {
  const metricsApp = express()
  metricsApp.get('/metrics', (_req, res) => void send(res))
  const server = http.createServer(metricsApp)
  await listening(server, port, host)
  return server
}

/** Listens, or rejects with the reason it cannot (a port in use: EADDRINUSE). */
const listening = (server: http.Server, port: number, host: string) =>
  new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
