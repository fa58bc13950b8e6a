import { Agent, request } from 'undici'
import { z } from 'zod'

/** One app's provisioning connection, as the SCIM client needs it. */
export interface ScimConnection {
  baseUrl: string
  token: string
  /** Okta's client gives up after 60 s (domain.md 6.4); ours does the same unless the connection says otherwise. */
  timeoutMs?: number
}

export const DEFAULT_SCIM_TIMEOUT_MS = 60_000

/** What the attempt log records of one request: never the token, never the base URL (it may carry credentials). */
export interface ScimRequestLog {
  method: string
  path: string
  status?: number
  durationMs: number
}

export interface ScimSuccess<T> {
  ok: true
  status: number
  body: T
  request: ScimRequestLog
}

/**
 * A downstream failure, never thrown. `protocol` is a 2xx answer we cannot use (a create without an `id`):
 * the peer answered, so retrying will not help.
 */
export interface ScimFailure {
  ok: false
  kind: 'network' | 'timeout' | 'http' | 'protocol'
  status?: number
  /** The raw `Retry-After` header (seconds or an HTTP-date): the retry policy interprets it. */
  retryAfter?: string
  scimType?: string
  detail?: string
  request: ScimRequestLog
}

export type ScimResult<T> = ScimSuccess<T> | ScimFailure

export interface ScimResponse {
  status: number
  body: unknown
  request: ScimRequestLog
}

const SCIM_MEDIA_TYPE = 'application/scim+json'
/** The largest answer read from a downstream: a user or a page of them is far smaller; more is refused unread. */
export const MAX_SCIM_ANSWER_BYTES = 1024 * 1024
const MAX_DETAIL_LENGTH = 500

// RFC 7644 3.12 sends `status` as a string; Okta's samples send a number. Only the fields we use are read.
const scimError = z.object({
  status: z.union([z.string(), z.number()]).optional(),
  scimType: z.string().optional(),
  detail: z.string().optional(),
})

/** Keeps a downstream's text out of our logs if it echoes the token back, and bounds its length. */
function redact(text: string, token: string): string {
  const clean = token ? text.split(token).join('[redacted]') : text
  return clean.length > MAX_DETAIL_LENGTH ? `${clean.slice(0, MAX_DETAIL_LENGTH)}…` : clean
}

function parseBody(text: string): unknown {
  if (!text) return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

function httpFailure(response: ScimResponse, retryAfter: string | null, token: string): ScimFailure {
  const error = scimError.safeParse(response.body)
  const fields = error.success ? error.data : {}
  const detail =
    fields.detail ?? (typeof response.body === 'string' && response.body.trim() ? response.body.trim() : undefined)
  return {
    ok: false,
    kind: 'http',
    status: response.status,
    ...(retryAfter !== null && { retryAfter }),
    ...(fields.scimType && { scimType: fields.scimType }),
    detail: redact(detail ?? `HTTP ${response.status}`, token),
    request: response.request,
  }
}

/**
 * Network failures are described by their code only: undici's messages can quote the URL. Errors are read
 * by shape, not `instanceof`: undici's errors may come from another realm (a test VM does not share it).
 */
function transportFailure(error: unknown, request: ScimRequestLog): ScimFailure {
  const { name, code, cause } = (error ?? {}) as { name?: unknown; code?: unknown; cause?: { code?: unknown } }
  if (name === 'TimeoutError' || name === 'AbortError') {
    return { ok: false, kind: 'timeout', detail: 'no answer within the timeout', request }
  }
  const reason = typeof code === 'string' ? code : typeof cause?.code === 'string' ? cause.code : undefined
  return { ok: false, kind: 'network', detail: reason ? `connection failed (${reason})` : 'connection failed', request }
}

/**
 * One connection pool per downstream origin, kept alive between jobs. undici's `request` rather than
 * `fetch`: the engine sends two requests per create, and fetch's WHATWG streams cost it more CPU than
 * the requests themselves on a fast downstream (bench: `npm run bench -- provision`).
 */
const pools = new Agent({ keepAliveTimeout: 30_000 })

/**
 * Sends one SCIM request and classifies the outcome. `path` is relative to the connection's base URL and is
 * recorded as is, so callers put nothing secret in it. Non-2xx answers become `http` failures with the
 * SCIM error body parsed; a 2xx comes back for the operation to interpret.
 */
export async function sendScim(
  connection: ScimConnection,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH',
  path: string,
  body?: unknown,
): Promise<ScimResult<ScimResponse>> {
  const started = performance.now()
  const log = (status?: number): ScimRequestLog => ({
    method,
    path,
    ...(status !== undefined && { status }),
    durationMs: Math.round(performance.now() - started),
  })
  try {
    // One deadline for the whole exchange: a peer that stalls mid-answer times out too.
    const signal = AbortSignal.timeout(connection.timeoutMs ?? DEFAULT_SCIM_TIMEOUT_MS)
    const response = await request(`${connection.baseUrl.replace(/\/+$/, '')}${path}`, {
      method,
      dispatcher: pools,
      headers: {
        accept: `${SCIM_MEDIA_TYPE}, application/json`,
        authorization: `Bearer ${connection.token}`,
        ...(body !== undefined && { 'content-type': SCIM_MEDIA_TYPE }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal,
    })
    const status = response.statusCode
    const text = await readCapped(response.body, MAX_SCIM_ANSWER_BYTES)
    if (text === null) {
      const detail = `the answer exceeded ${MAX_SCIM_ANSWER_BYTES} bytes`
      return { ok: false, kind: 'protocol', status, detail, request: log(status) }
    }
    const result: ScimResponse = { status, body: parseBody(text), request: log(status) }
    if (status >= 200 && status < 300) return { ok: true, status, body: result, request: result.request }
    const retryAfter = response.headers['retry-after']
    return httpFailure(result, (Array.isArray(retryAfter) ? retryAfter[0] : retryAfter) ?? null, connection.token)
  } catch (error) {
    return transportFailure(error, log())
  }
}

/** The body as text, or null (the rest left unread, the connection closed) once it passes `limit` bytes. */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }, limit: number): Promise<string | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    size += chunk.length
    if (size > limit) {
      body.destroy()
      return null
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}
