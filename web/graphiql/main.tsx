// Self-hosted GraphiQL for Lifecycle Gateway. Bundled by scripts/build-ui.mjs
// into public/graphiql/ and served by src/server/graphiql.ts (GET /graphql with
// Accept: text/html, and /graphiql/). Nothing here loads from a CDN.
//
// Authentication: the user pastes `Authorization: Bearer <token>` into the Headers
// editor. That header goes with every HTTP request (queries, mutations, schema
// introspection) and, for subscriptions, becomes the graphql-ws
// `connectionParams.authorization` (browsers cannot set headers on a WebSocket).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { GraphiQL } from 'graphiql'
import type { Fetcher, FetcherOpts, FetcherParams, Observable, Unsubscribable } from '@graphiql/toolkit'
import { createClient, type Client } from 'graphql-ws'
import { getOperationAST, parse, type DocumentNode, type FormattedExecutionResult as ExecutionResult } from 'graphql'
import 'graphiql/style.css'

// Monaco's web workers are bundled as separate files in ./workers/ next to this
// script; resolve them from this module's own URL so the page works both at
// /graphql and at /graphiql/.
const assetBase = new URL('.', import.meta.url)
;(globalThis as { MonacoEnvironment?: unknown }).MonacoEnvironment = {
  getWorker(_workerId: string, label: string): Worker {
    const file = label === 'json' ? 'json.worker.js' : label === 'graphql' ? 'graphql.worker.js' : 'editor.worker.js'
    return new Worker(new URL(`workers/${file}`, assetBase), { type: 'module', name: `monaco-${label}` })
  },
}

const HTTP_URL = new URL('/graphql', location.href).href
const WS_URL = HTTP_URL.replace(/^http/, 'ws') // http: -> ws:, https: -> wss:

const TOKEN_PLACEHOLDER = '<paste your API token>'
const DEFAULT_HEADERS = JSON.stringify({ Authorization: `Bearer ${TOKEN_PLACEHOLDER}` }, null, 2)

const DEFAULT_QUERY = `# Lifecycle Gateway GraphiQL
#
# Every request needs an API token: paste it into
# the Headers editor below, e.g.
#   { "Authorization": "Bearer <token>" }
# Queries and mutations send it over HTTP;
# subscriptions send it over the WebSocket as
# connectionParams.authorization. The schema (docs,
# autocompletion) needs no token; it reloads when
# the token changes.
#
# Two operations below: Run asks which one to run.
# A subscription runs until you press stop; each
# event replaces the response on the right.

query Users {
  users(first: 10) {
    edges {
      node {
        id
        status
        profile {
          login
          email
        }
      }
    }
  }
}

subscription UserStatusChanged {
  userStatusChanged {
    previousStatus
    status
    user {
      id
      profile {
        login
      }
    }
  }
}
`

type HeaderMap = Record<string, string>

/** Header values from the editor (parsed JSONC, any JSON value) as strings. */
function normalizeHeaders(raw: FetcherOpts['headers']): HeaderMap {
  const out: HeaderMap = {}
  if (!raw || typeof raw !== 'object') return out
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || value === null) continue
    out[name] = typeof value === 'string' ? value : JSON.stringify(value)
  }
  return out
}

function authorizationOf(headers: HeaderMap): string | undefined {
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() === 'authorization') return value.trim()
  return undefined
}

/** Authorization value from the raw Headers editor text (JSON, or JSONC as a fallback). */
function authorizationFromText(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text || '{}')
    return parsed && typeof parsed === 'object'
      ? authorizationOf(normalizeHeaders(parsed as Record<string, unknown>))
      : undefined
  } catch {
    const m = /"authorization"\s*:\s*"((?:[^"\\]|\\.)*)"/i.exec(text)
    if (!m) return undefined
    try {
      return (JSON.parse(`"${m[1]}"`) as string).trim()
    } catch {
      return undefined
    }
  }
}

const withoutAuthorization = (headers: HeaderMap): HeaderMap =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'))

const isPlaceholder = (authorization: string | undefined) =>
  !!authorization && authorization.includes(TOKEN_PLACEHOLDER)

// A Promise, not a bare value: GraphiQL's introspection insists on one.
const needsToken = async (): Promise<ExecutionResult> => ({
  errors: [
    {
      message:
        'No API token yet: replace <paste your API token> in the Headers editor with your token, e.g. {"Authorization": "Bearer abc123"}.',
    },
  ],
})

// ---- HTTP: queries, mutations, introspection ----------------------------------------

async function postJson(params: FetcherParams, headers: HeaderMap): Promise<unknown> {
  const h = new Headers({
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json;q=0.9',
  })
  for (const [name, value] of Object.entries(headers)) h.set(name, value)
  let res: Response
  try {
    res = await fetch(HTTP_URL, {
      method: 'POST',
      headers: h,
      body: JSON.stringify(params),
      credentials: 'same-origin',
    })
  } catch (err) {
    return { errors: [{ message: `Could not reach ${HTTP_URL}: ${err instanceof Error ? err.message : String(err)}` }] }
  }
  const text = await res.text()
  try {
    return JSON.parse(text)
  } catch {
    const detail = text.trim().slice(0, 500)
    return { errors: [{ message: `HTTP ${res.status} ${res.statusText}${detail ? `: ${detail}` : ''}` }] }
  }
}

// ---- WebSocket: subscriptions (one graphql-ws client per Authorization value) ---------

const MAX_WS_CLIENTS = 8
const wsClients = new Map<string, Client>()

const isCloseEvent = (e: unknown): e is { code: number; reason: string } =>
  typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'number' && 'reason' in e

function wsClientFor(authorization: string | undefined): Client {
  const key = authorization ?? ''
  let client = wsClients.get(key)
  if (client) {
    wsClients.delete(key) // re-insert: the Map's order doubles as least-recently-used
    wsClients.set(key, client)
    return client
  }
  client = createClient({
    url: WS_URL,
    connectionParams: authorization ? { authorization } : {},
    lazy: true, // connect on the first subscription, close when the last one ends
    retryAttempts: 3,
    // 4401/4403 mean a bad or missing token: retrying with the same token is pointless
    shouldRetry: (e) => !(isCloseEvent(e) && (e.code === 4401 || e.code === 4403)),
  })
  wsClients.set(key, client)
  while (wsClients.size > MAX_WS_CLIENTS) {
    const [oldestKey, oldest] = wsClients.entries().next().value as [string, Client]
    wsClients.delete(oldestKey)
    void oldest.dispose()
  }
  return client
}

function describeWsError(e: unknown): Error {
  if (e instanceof Error) return e
  if (isCloseEvent(e)) {
    const hint =
      e.code === 4401 || e.code === 4403
        ? ' - check the Authorization header (sent as connectionParams.authorization)'
        : ''
    return new Error(`WebSocket closed: ${`${e.code} ${e.reason || ''}`.trim()}${hint}`)
  }
  if (typeof Event !== 'undefined' && e instanceof Event)
    return new Error(`WebSocket error: could not connect to ${WS_URL}`)
  return new Error(String(e))
}

type Sink = { next?: (value: ExecutionResult) => void; error?: (error: unknown) => void; complete?: () => void }

function subscribeOverWs(params: FetcherParams, authorization: string | undefined): Observable<ExecutionResult> {
  const payload = {
    query: params.query,
    operationName: params.operationName ?? undefined,
    variables: params.variables ?? undefined,
  }
  return {
    subscribe(
      nextOrSink?: Sink | ((value: ExecutionResult) => void) | null,
      error?: ((error: unknown) => void) | null,
      complete?: (() => void) | null,
    ): Unsubscribable {
      const sink: Sink =
        typeof nextOrSink === 'function'
          ? { next: nextOrSink, error: error ?? undefined, complete: complete ?? undefined }
          : (nextOrSink ?? {})
      const dispose = wsClientFor(authorization).subscribe<ExecutionResult['data']>(payload, {
        next: (value) => sink.next?.(value as ExecutionResult),
        // Show every failure like a GraphQL response (GraphiQL would print an Error's stack):
        // GraphQL errors for the operation (validation, FORBIDDEN, ...) arrive as an array;
        // a refused or lost connection as a CloseEvent/Event.
        error: (err) => {
          sink.next?.({
            errors: Array.isArray(err) ? err : [{ message: describeWsError(err).message }],
          } as ExecutionResult)
          sink.complete?.()
        },
        complete: () => sink.complete?.(),
      })
      return { unsubscribe: dispose }
    },
  }
}

// ---- The fetcher ------------------------------------------------------------------

/** Authorization of the last introspection request: lets the UI reload the schema when it changes. */
let introspectedWith: string | undefined | null = null

function operationKind(params: FetcherParams, documentAST?: DocumentNode): string | undefined {
  let doc = documentAST
  if (!doc) {
    try {
      doc = parse(params.query)
    } catch {
      return undefined // let the server report the syntax error
    }
  }
  return getOperationAST(doc, params.operationName ?? undefined)?.operation
}

function graphqlFetch(
  params: FetcherParams,
  opts?: FetcherOpts,
): Promise<ExecutionResult> | Observable<ExecutionResult> {
  const headers = normalizeHeaders(opts?.headers)
  const authorization = authorizationOf(headers)
  if (params.operationName === 'IntrospectionQuery') {
    introspectedWith = authorization
    // Introspection needs no token: the schema (docs, autocompletion) loads before one is pasted.
    if (isPlaceholder(authorization)) return postJson(params, withoutAuthorization(headers)) as Promise<ExecutionResult>
  }
  if (isPlaceholder(authorization)) return needsToken()
  if (operationKind(params, opts?.documentAST) === 'subscription') return subscribeOverWs(params, authorization)
  return postJson(params, headers) as Promise<ExecutionResult>
}

// @graphiql/toolkit types results with graphql-ws's ExecutionResult (GraphQLError
// instances); over the wire they are plain formatted errors, which GraphiQL handles.
const makeFetcher = (): Fetcher =>
  ((params: FetcherParams, opts?: FetcherOpts) => graphqlFetch(params, opts)) as unknown as Fetcher

function App() {
  // A new fetcher identity makes GraphiQL introspect again (with the current headers).
  const [schemaGeneration, setSchemaGeneration] = useState(0)
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const fetcher = useMemo(makeFetcher, [schemaGeneration])
  const timer = useRef<number | undefined>(undefined)
  useEffect(() => () => window.clearTimeout(timer.current), [])
  const onEditHeaders = useCallback((text: string) => {
    window.clearTimeout(timer.current)
    timer.current = window.setTimeout(() => {
      const authorization = authorizationFromText(text)
      if (introspectedWith !== null && authorization !== introspectedWith && !isPlaceholder(authorization))
        setSchemaGeneration((n) => n + 1)
    }, 600)
  }, [])
  return (
    <GraphiQL
      fetcher={fetcher}
      defaultQuery={DEFAULT_QUERY}
      defaultHeaders={DEFAULT_HEADERS}
      defaultEditorToolsVisibility="headers"
      onEditHeaders={onEditHeaders}
    >
      <GraphiQL.Logo>Lifecycle Gateway</GraphiQL.Logo>
    </GraphiQL>
  )
}

createRoot(document.getElementById('root')!).render(<App />)
