import type { Request as ExpressRequest, Response as ExpressResponse } from 'express'
import { execute, GraphQLError, OperationTypeNode, type ExecutionResult, type GraphQLFormattedError } from 'graphql'
import { createHandler, type Request as StreamRequest, type Response as StreamResponse } from 'graphql-sse'
import type { Logger } from '../logger'
import type { Principal } from '../tokens/scopes'
import { errorBody } from './errors'
import { isAsyncIterator, type Caller, type StreamedOperations } from './streamed-operations'
import { writePace, type WritePace } from './write-pace'

/** What the HTTP middlewares before this one established (the same as for POST /graphql). */
type AdmittedRequest = ExpressRequest & { principal?: Principal | null; requestId?: string }

type StreamContext = { caller?: Caller; pace: WritePace }

const EVENT_STREAM = 'text/event-stream'

/**
 * GraphQL over Server-Sent Events (graphql-sse, distinct connections mode: one request per
 * operation) for clients that cannot open a WebSocket. Mounted behind the HTTP middlewares of
 * /graphql, so a request is authenticated, bounded and counted against the rate limit once, as on
 * HTTP; the operation then runs through the streamed operations shared with the WebSocket.
 *
 * Like HTTP, an operation that fails before producing anything with an HTTP status in its error
 * (UNAUTHENTICATED without a token: 401) is answered with that status and a JSON body, never a
 * stream; every refusal carries a typed `extensions.code`. As on the WebSocket, an operation's next
 * result is pulled only once the previous one was written out (write-pace.ts): a client that stops
 * reading is ended by its subscription's bounded buffer with SUBSCRIBER_TOO_SLOW.
 */
export function serveEventStreams(operations: StreamedOperations, logger: Logger) {
  const open = new Set<AsyncGenerator<string>>()

  const handler = createHandler<AdmittedRequest, StreamContext>({
    // No stream reservations (single connection mode): they would live in one process's memory.
    authenticate: () => null,
    async onSubscribe(req, params) {
      const raw = req.raw
      const caller: Caller = {
        requestId: raw.requestId!,
        transport: 'sse',
        principal: raw.principal ?? null,
        authorization: raw.headers.authorization,
      }
      const prepared = operations.prepare(params, caller)
      if (!prepared.ok) return errorResponse(operations.maskedErrors(prepared.errors))
      if (prepared.operation === OperationTypeNode.MUTATION && req.method !== 'POST')
        return errorResponse([badInput('Mutations are sent with POST.')], 405)
      const result = await (prepared.operation === OperationTypeNode.SUBSCRIPTION
        ? operations.subscribe(prepared.args)
        : execute(prepared.args))
      if (!isAsyncIterator(result)) {
        const status = refusedStatus(result)
        if (status) return errorResponse(operations.masked(result).errors ?? [], status)
      }
      req.context.caller = caller
      // graphql-sse takes a returned result without `data` for execution arguments; streamed, it is sent as it is.
      const started = operations.started(caller, prepared.name, isAsyncIterator(result) ? result : only(result))
      return req.context.pace.pace(started)
    },
    onNext: (_ctx, _req, result) => operations.masked(result as ExecutionResult) as ExecutionResult,
    onComplete(_ctx, req) {
      if (req.context.caller) operations.completed(req.context.caller)
    },
  })

  return {
    /** The express handler of GET and POST /graphql/stream. */
    async route(req: AdmittedRequest, res: ExpressResponse) {
      if (req.method !== 'GET' && req.method !== 'POST')
        return void res
          .status(405)
          .setHeader('allow', 'GET, POST')
          .json(errorBody('BAD_USER_INPUT', 'Use GET or POST.'))
      if (!req.headers.accept?.includes(EVENT_STREAM))
        return void res
          .status(406)
          .json(errorBody('BAD_USER_INPUT', `This endpoint streams Server-Sent Events: send Accept: ${EVENT_STREAM}.`))
      try {
        const request = streamRequest(req)
        const [body, init] = await handler(request)
        if (typeof body === 'string' || body === null) return void sendJson(res, body, init)
        open.add(body)
        res.writeHead(init.status, init.headers)
        res.once('close', () => void body.return())
        for await (const chunk of body) {
          if (!res.writable) break
          // Called back once the socket took the chunk: a client that stops reading stops its results.
          await new Promise((resolve) => res.write(chunk, resolve))
          request.context.pace.wrote(chunk)
        }
        open.delete(body)
        res.end()
      } catch (error) {
        logger.error({ err: error, requestId: req.requestId }, 'event stream failed')
        if (res.headersSent) return void res.end()
        res.status(500).json(errorBody('INTERNAL', 'Internal server error.'))
      }
    },
    /** Ends every open stream (shutdown): clients reconnect elsewhere and resume from their last cursor. */
    async dispose() {
      await Promise.all([...open].map((body) => body.return(undefined)))
    },
  }
}

async function* only(result: ExecutionResult) {
  yield result
}

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } })

/** graphql-sse's view of an express request. */
function streamRequest(req: AdmittedRequest): StreamRequest<AdmittedRequest, StreamContext> {
  return {
    method: req.method,
    url: req.originalUrl,
    headers: {
      get(key) {
        // route() admits only requests whose Accept includes an event stream: graphql-sse wants it exactly.
        if (key.toLowerCase() === 'accept') return EVENT_STREAM
        const value = req.headers[key.toLowerCase()]
        return Array.isArray(value) ? value.join('\n') : value
      },
    },
    // express.json() parsed a JSON body already; graphql-sse refuses any other content type.
    body: req.body ?? null,
    raw: req,
    context: { pace: writePace() },
  }
}

/** The HTTP status an unstreamed result's errors ask for (Apollo's rule: `extensions.http.status`). */
function refusedStatus(result: ExecutionResult): number | undefined {
  for (const error of result.errors ?? []) {
    const status = (error.extensions.http as { status?: unknown } | undefined)?.status
    if (typeof status === 'number' && status >= 400) return status
  }
  return undefined
}

const errorResponse = (errors: readonly (GraphQLError | GraphQLFormattedError)[], status = 400): StreamResponse => [
  JSON.stringify({ errors: errors.map((error) => ('toJSON' in error ? error.toJSON() : error)) }),
  { status, statusText: '', headers: { 'content-type': 'application/json; charset=utf-8' } },
]

/**
 * Sends a response graphql-sse answered without a stream. Its own refusals (no query, a body that
 * is not JSON, no event-stream Accept) carry no code: they are the client's mistakes, BAD_USER_INPUT.
 */
function sendJson(res: ExpressResponse, body: string | null, init: StreamResponse[1]) {
  if (init.status < 400) return void res.writeHead(init.status, init.headers).end(body ?? undefined)
  const parsed = body ? (JSON.parse(body) as { errors?: GraphQLFormattedError[] }) : {}
  const errors = parsed.errors?.length ? parsed.errors : errorBody('BAD_USER_INPUT', refusalText(init.status)).errors
  res.status(init.status).json({
    errors: errors.map((error) => ({
      ...error,
      extensions: { ...error.extensions, code: error.extensions?.code ?? 'BAD_USER_INPUT' },
    })),
  })
}

const refusalText = (status: number) =>
  status === 415
    ? 'Send the operation as JSON (content-type: application/json) or in the URL of a GET.'
    : `The request was refused (HTTP ${status}).`
