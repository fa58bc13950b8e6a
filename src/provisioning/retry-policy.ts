import type { EventType } from '../events/event-catalogue'
/**
 * The retry policy: what one SCIM attempt's outcome means for its job. Pure (no I/O): the clock and the
 * random source are passed in. api.md "Provisioning operations" is the contract; where domain.md 6.2/6.4
 * (Okta's behaviour) differs, api.md wins: a 409 on create links the existing account, a 429 pauses the
 * whole app for Retry-After (60 s when absent, never doubled), and 5xx/timeouts/network errors are retried.
 */

/** The SCIM operations an attempt is made for (api.md `ProvisioningAttempt.operation`). */
export type ProvisioningOperation = 'CREATE' | 'LINK' | 'UPDATE' | 'DEACTIVATE' | 'REACTIVATE' | 'PASSWORD' | 'IMPORT'

/** What came back from one HTTP attempt, as the SCIM client reports it. */
export type AttemptResult =
  | { kind: 'response'; status: number; retryAfter?: string | null; detail?: string | null }
  | { kind: 'timeout' }
  | { kind: 'network-error'; detail: string }

export const OUTCOMES = [
  'SUCCESS',
  'TIMEOUT',
  'NETWORK_ERROR',
  'SERVER_ERROR',
  'RATE_LIMITED',
  'AUTHENTICATION_FAILED',
  'CONFLICT_ON_CREATE',
  'CLIENT_ERROR',
  'UNEXPECTED_STATUS',
] as const

export type Outcome = (typeof OUTCOMES)[number]

/** The failure events of api.md, from the event catalogue. */
export type FailureEvent = Extract<EventType, `application.integration.${string}`>

/**
 * How each outcome is handled:
 * - SUCCEED: the job is done;
 * - LINK_EXISTING: look the account up by userName and link it (a 409 on create), never POST again;
 * - FAIL: syncState ERROR at once, the event recorded;
 * - RETRY: retried with `backoff` until the attempt limit, then FAIL; `pausesApp` holds the app's whole
 *   queue until the retry is due; `eventOnRetry` is recorded on every such attempt, not only the last.
 */
export type Rule =
  | { action: 'SUCCEED' }
  | { action: 'LINK_EXISTING' }
  | { action: 'FAIL'; event: FailureEvent }
  | {
      action: 'RETRY'
      backoff: 'EXPONENTIAL_FULL_JITTER' | 'RETRY_AFTER'
      pausesApp: boolean
      event: FailureEvent
      eventOnRetry: boolean
    }

const TRANSIENT: Rule = {
  action: 'RETRY',
  backoff: 'EXPONENTIAL_FULL_JITTER',
  pausesApp: false,
  event: 'application.integration.general_failure',
  eventOnRetry: false,
}

/** Outcome -> rule: the single source for the worker, the tests and the README. */
export const RETRY_POLICY: Record<Outcome, Rule> = {
  SUCCESS: { action: 'SUCCEED' },
  TIMEOUT: TRANSIENT,
  NETWORK_ERROR: TRANSIENT,
  SERVER_ERROR: TRANSIENT,
  // A rate limit is the app's, not the job's: every 429 is worth an event because it stops the whole app.
  RATE_LIMITED: {
    action: 'RETRY',
    backoff: 'RETRY_AFTER',
    pausesApp: true,
    event: 'application.integration.rate_limit_exceeded',
    eventOnRetry: true,
  },
  AUTHENTICATION_FAILED: { action: 'FAIL', event: 'application.integration.authentication_failure' },
  CONFLICT_ON_CREATE: { action: 'LINK_EXISTING' },
  CLIENT_ERROR: { action: 'FAIL', event: 'application.integration.general_failure' },
  // 1xx/3xx: a SCIM endpoint answers its own requests; a redirect (not followed) or an interim status is a
  // misconfigured base URL or a misbehaving server, not a transient fault.
  UNEXPECTED_STATUS: { action: 'FAIL', event: 'application.integration.general_failure' },
}

/** Backoff before retry n is a uniform draw in [0, min(CAP, BASE * 2^(n-1))] ("full jitter"). */
export const BACKOFF_BASE_MS = 1_000
export const BACKOFF_CAP_MS = 5 * 60_000
/** api.md: a 429 without a usable Retry-After pauses the app for 60 s. */
export const DEFAULT_RETRY_AFTER_MS = 60_000

/** Which row of the table an attempt falls in; a 409 is a uniqueness conflict to resolve only on create. */
export function classify(result: AttemptResult, operation: ProvisioningOperation): Outcome {
  if (result.kind === 'timeout') return 'TIMEOUT'
  if (result.kind === 'network-error') return 'NETWORK_ERROR'
  const { status } = result
  if (status >= 200 && status < 300) return 'SUCCESS'
  if (status === 429) return 'RATE_LIMITED'
  if (status === 401 || status === 403) return 'AUTHENTICATION_FAILED'
  if (status === 409 && operation === 'CREATE') return 'CONFLICT_ON_CREATE'
  if (status >= 400 && status < 500) return 'CLIENT_ERROR'
  if (status >= 500 && status < 600) return 'SERVER_ERROR'
  return 'UNEXPECTED_STATUS'
}

// IMF-fixdate, the HTTP-date form senders must generate (RFC 9110 5.6.7); Date.parse alone accepts "12.5".
const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/

/** Milliseconds to wait for a Retry-After value: delay-seconds or an HTTP-date (past -> 0); else 60 s. */
export function retryAfterMs(header: string | null | undefined, now: Date): number {
  const value = header?.trim() ?? ''
  if (/^\d+$/.test(value)) return Number(value) * 1_000
  const at = IMF_FIXDATE.test(value) ? Date.parse(value) : NaN
  if (Number.isNaN(at)) return DEFAULT_RETRY_AFTER_MS
  return Math.max(0, at - now.getTime())
}

/** The full-jitter delay after attempt n (1-based); `random` returns a number in [0, 1]. */
export function backoffMs(attempt: number, random: () => number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1))
  return Math.floor(random() * ceiling)
}

export type Decision =
  | { kind: 'SUCCEEDED' }
  | { kind: 'LINK_EXISTING' }
  | {
      kind: 'RETRY_SCHEDULED'
      delayMs: number
      /** Set for a 429: no job of the app may start before then. */
      pauseAppUntil: Date | null
      /** The event to record for this attempt, when the rule records one on retries. */
      event: FailureEvent | null
    }
  | {
      kind: 'FAILED'
      syncState: 'ERROR'
      event: FailureEvent
      /** What a person reads in provisioningError: the downstream's own detail when it sent one. */
      detail: string
      /** A 429 on the last attempt still holds the app until Retry-After. */
      pauseAppUntil: Date | null
    }

export type DecisionContext = {
  operation: ProvisioningOperation
  /** The number of the attempt that produced `result`, from 1. */
  attempt: number
  /** PROVISIONING_MAX_ATTEMPTS: the attempt with this number is the last one. */
  maxAttempts: number
  now: Date
  random: () => number
}

function describe(result: AttemptResult): string {
  if (result.kind === 'timeout') return 'No answer before the timeout'
  if (result.kind === 'network-error') return `Network error: ${result.detail}`
  return result.detail || `HTTP ${result.status}`
}

/** The policy applied to one attempt: what happens to the job and the app next. */
export function decide(result: AttemptResult, context: DecisionContext): Decision {
  const rule = RETRY_POLICY[classify(result, context.operation)]
  if (rule.action === 'SUCCEED') return { kind: 'SUCCEEDED' }
  if (rule.action === 'LINK_EXISTING') return { kind: 'LINK_EXISTING' }
  if (rule.action === 'FAIL') {
    return { kind: 'FAILED', syncState: 'ERROR', event: rule.event, detail: describe(result), pauseAppUntil: null }
  }
  const delayMs =
    rule.backoff === 'RETRY_AFTER'
      ? retryAfterMs(result.kind === 'response' ? result.retryAfter : null, context.now)
      : backoffMs(context.attempt, context.random)
  const pauseAppUntil = rule.pausesApp ? new Date(context.now.getTime() + delayMs) : null
  if (context.attempt >= context.maxAttempts) {
    const detail = `${describe(result)} (gave up after ${context.attempt} attempts)`
    return { kind: 'FAILED', syncState: 'ERROR', event: rule.event, detail, pauseAppUntil }
  }
  return { kind: 'RETRY_SCHEDULED', delayMs, pauseAppUntil, event: rule.eventOnRetry ? rule.event : null }
}
