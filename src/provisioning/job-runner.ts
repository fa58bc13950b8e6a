import { randomBytes } from 'node:crypto'
import type { JobType } from '../apps/app-user-rules'
import type { UserProvisioningCapabilities } from '../apps/features'
import type { ScimClient, ScimResult, ScimUser, ScimUserPayload } from './scim-client'
import { toScimUser, type ScimSource } from './scim-mapping'
import { decide, type AttemptResult, type FailureEvent, type ProvisioningOperation } from './retry-policy'

/**
 * Runs one claimed job against the downstream: the SCIM requests of domain.md 6.2 with api.md's
 * failure contract, and nothing else. No database access: what it did comes back as a JobOutcome
 * for the settlement to write, so a batch of outcomes commits in one transaction.
 */

export type AttemptOutcome = 'SUCCEEDED' | 'RETRY_SCHEDULED' | 'FAILED'

/** One HTTP request, as AppUser.attempts shows it. */
export interface AttemptRecord {
  operation: ProvisioningOperation
  method: string
  path: string
  httpStatus: number | null
  durationMs: number
  outcome: AttemptOutcome
  detail: string | null
  at: Date
}

export type JobResult =
  | { kind: 'SUCCEEDED'; operation: ProvisioningOperation; httpStatus: number; externalId: string | null }
  /** Nothing to send: the capability the job needs was switched off after it was queued. */
  | { kind: 'SKIPPED'; reason: string }
  /** Not sent: its app user lost the app (or is gone) after the job was claimed (app-user-rules.ts isWithdrawn). */
  | { kind: 'WITHDRAWN' }
  /** Not sent: its app was paused after the job was claimed. Back in the queue as it was, no attempt counted. */
  | { kind: 'HANDED_BACK' }
  | {
      kind: 'RETRY_SCHEDULED'
      runAfter: Date
      pauseAppUntil: Date | null
      event: FailureEvent | null
      httpStatus: number | null
      detail: string
    }
  | {
      kind: 'FAILED'
      summary: string
      causes: string[]
      event: FailureEvent
      httpStatus: number | null
      pauseAppUntil: Date | null
    }

type Failure = Extract<JobResult, { kind: 'RETRY_SCHEDULED' | 'FAILED' }>

export interface JobOutcome {
  attempts: AttemptRecord[]
  result: JobResult
}

export interface JobInput {
  type: JobType
  /** Attempts already made for this job (the retry policy counts from the next one). */
  attempts: number
  /** A PASSWORD job's password, already opened. */
  password: string | null
  appUser: { status: string; externalId: string | null }
  user: Omit<ScimSource, 'active'>
  app: { label: string }
  capabilities: UserProvisioningCapabilities
}

export interface RunnerOptions {
  maxAttempts: number
  now: () => Date
  random: () => number
}

/** api.md: with create.lifecycleCreate DISABLED an assignment neither creates nor links. */
export const NOT_FOUND_DOWNSTREAM = 'user not found downstream'

const VERBS: Record<JobType, string> = {
  CREATE: 'Automatic provisioning',
  UPDATE: 'Profile push',
  DEACTIVATE: 'Deactivation',
  REACTIVATE: 'Reactivation',
  PASSWORD: 'Password push',
}

/** The summary's opening, Okta's "<our message>: <downstream message>" (domain.md 5). */
const failedTo = (type: JobType, user: { login: string }, app: { label: string }) =>
  `${VERBS[type]} of user ${user.login} to app ${app.label} failed`

/** A job that failed before sending anything (no connection to use): ERROR with this reason. */
export function failedUnsent(type: JobType, user: { login: string }, app: { label: string }, why: string): JobOutcome {
  return {
    attempts: [],
    result: fail(failedTo(type, user, app), why, 'application.integration.general_failure', null, null),
  }
}

/** Okta's random seed: a throw-away password the downstream account is created with. */
const randomPassword = () => `${randomBytes(18).toString('base64url')}aA1!`

export async function runJob(input: JobInput, client: ScimClient, options: RunnerOptions): Promise<JobOutcome> {
  const attempts: AttemptRecord[] = []
  const attempt = input.attempts + 1
  const enabled = (status: string) => status === 'ENABLED'
  const { create, update } = input.capabilities
  let failure: Failure | undefined
  // A downstream may quote the request it refused in its error (the seed password included), and the attempt
  // log and provisioningError must never hold a password (api.md): what this job sends is cut out of details.
  const passwords = new Set(input.password ? [input.password] : [])
  const redact = (text: string) =>
    [...passwords].reduce((clean, secret) => clean.split(secret).join('[redacted]'), text)

  /** Logs one request; a failure becomes the job's result through the retry policy. */
  const sent = <T>(operation: ProvisioningOperation, result: ScimResult<T>): result is ScimResult<T> & { ok: true } => {
    const { request } = result
    const base = { operation, method: request.method, path: request.path, durationMs: request.durationMs }
    const at = options.now()
    if (result.ok) {
      attempts.push({ ...base, httpStatus: result.status, outcome: 'SUCCEEDED', detail: null, at })
      return true
    }
    failure = judge(operation, result, at)
    const outcome = failure.kind === 'RETRY_SCHEDULED' ? 'RETRY_SCHEDULED' : 'FAILED'
    const detail = failure.kind === 'RETRY_SCHEDULED' ? failure.detail : failure.causes[0]
    attempts.push({ ...base, httpStatus: result.status ?? null, outcome, detail, at })
    return false
  }

  const judge = (operation: ProvisioningOperation, result: ScimResult<unknown> & { ok: false }, at: Date): Failure => {
    const verb = failedTo(input.type, input.user, input.app)
    const httpStatus = result.status ?? null
    const detail = redact(result.detail ?? (httpStatus ? `HTTP ${httpStatus}` : 'no answer'))
    // A 2xx we cannot use (a create without an id): the peer answered, so retrying will not help.
    if (result.kind === 'protocol') {
      return fail(verb, `${detail} (HTTP ${httpStatus})`, 'application.integration.general_failure', httpStatus, null)
    }
    const attemptResult: AttemptResult =
      result.kind === 'timeout'
        ? { kind: 'timeout' }
        : result.kind === 'network'
          ? { kind: 'network-error', detail }
          : { kind: 'response', status: httpStatus ?? 0, retryAfter: result.retryAfter ?? null, detail }
    const decision = decide(attemptResult, {
      operation,
      attempt,
      maxAttempts: options.maxAttempts,
      now: at,
      random: options.random,
    })
    if (decision.kind === 'RETRY_SCHEDULED') {
      const runAfter = new Date(at.getTime() + decision.delayMs)
      return {
        kind: 'RETRY_SCHEDULED',
        runAfter,
        pauseAppUntil: decision.pauseAppUntil,
        event: decision.event,
        httpStatus,
        detail,
      }
    }
    if (decision.kind === 'FAILED') {
      const why =
        decision.event === 'application.integration.authentication_failure'
          ? `the credentials used to connect to the API were invalid: ${decision.detail}`
          : decision.detail
      return fail(verb, why, decision.event, httpStatus, decision.pauseAppUntil)
    }
    // SUCCEEDED / LINK_EXISTING are not failures: the caller handles a 409 on create itself.
    return fail(verb, detail, 'application.integration.general_failure', httpStatus, null)
  }

  const done = (
    operation: ProvisioningOperation,
    httpStatus: number,
    externalId: string | null = null,
  ): JobOutcome => ({
    attempts,
    result: { kind: 'SUCCEEDED', operation, httpStatus, externalId },
  })
  const failed = (): JobOutcome => ({ attempts, result: failure! })
  const skipped = (reason: string): JobOutcome => ({ attempts, result: { kind: 'SKIPPED', reason } })
  // The mapping always carries userName (our login).
  const resource = (active: boolean, password?: string) =>
    ({ ...toScimUser({ ...input.user, active }), ...(password ? { password } : {}) }) as unknown as ScimUserPayload

  /** Links an existing account: its id becomes our externalId, and our profile is pushed over it. */
  const link = async (account: ScimUser): Promise<JobOutcome> => {
    const replaced = await client.replace(account.id, resource(true))
    if (!sent('LINK', replaced)) return failed()
    return done('LINK', replaced.status, account.id)
  }

  switch (input.type) {
    case 'CREATE': {
      if (!enabled(create.lifecycleCreate.status)) {
        const cause = `Create Users (create.lifecycleCreate) is disabled for app ${input.app.label}: the account of ${input.user.login} can be neither created nor linked.`
        return {
          attempts,
          result: {
            kind: 'FAILED',
            summary: NOT_FOUND_DOWNSTREAM,
            causes: [cause],
            event: 'application.integration.general_failure',
            httpStatus: null,
            pauseAppUntil: null,
          },
        }
      }
      const found = await client.findByUserName(input.user.login)
      if (!sent('LINK', found)) return failed()
      if (found.body) return link(found.body)
      const seeded = input.password ?? randomPassword()
      passwords.add(seeded)
      const created = await client.create(resource(true, seeded))
      if (created.ok) {
        sent('CREATE', created)
        return done('CREATE', created.status, created.body.id)
      }
      if (!(created.kind === 'http' && created.status === 409)) {
        sent('CREATE', created)
        return failed()
      }
      // api.md: a uniqueness conflict adopts the existing account instead of looping on POST.
      const conflictDetail = redact(created.detail ?? 'conflict')
      const conflictAt = attempts.length
      attempts.push({
        operation: 'CREATE',
        method: created.request.method,
        path: created.request.path,
        httpStatus: 409,
        durationMs: created.request.durationMs,
        outcome: 'SUCCEEDED',
        detail: `${conflictDetail}: linking the existing account`,
        at: options.now(),
      })
      const existing = await client.findByUserName(input.user.login)
      if (!sent('LINK', existing)) return failed()
      if (existing.body) return link(existing.body)
      const conflict = fail(
        failedTo('CREATE', input.user, input.app),
        `the downstream refused the create as a duplicate (409: ${conflictDetail}) but no account with userName ${input.user.login} was found to link`,
        'application.integration.general_failure',
        409,
        null,
      )
      failure = conflict
      attempts[conflictAt] = { ...attempts[conflictAt], outcome: 'FAILED', detail: conflict.causes[0] }
      return failed()
    }
    case 'UPDATE': {
      if (!enabled(update.profile.status)) return skipped('Update User Attributes (update.profile) is disabled')
      if (!input.appUser.externalId) return skipped('no downstream account is linked yet')
      const active = input.appUser.status !== 'DEPROVISIONED' && input.appUser.status !== 'INACTIVE'
      const replaced = await client.replace(input.appUser.externalId, resource(active))
      if (!sent('UPDATE', replaced)) return failed()
      return done('UPDATE', replaced.status)
    }
    case 'DEACTIVATE':
    case 'REACTIVATE': {
      const operation = input.type
      if (!enabled(update.lifecycleDeactivate.status))
        return skipped('Deactivate Users (update.lifecycleDeactivate) is disabled')
      if (!input.appUser.externalId) return skipped('no downstream account is linked')
      const patched = await client.setActive(input.appUser.externalId, operation === 'REACTIVATE')
      if (!sent(operation, patched)) return failed()
      return done(operation, patched.status)
    }
    case 'PASSWORD': {
      if (!enabled(update.password.status)) return skipped('Sync Password (update.password) is disabled')
      if (!input.appUser.externalId) return skipped('no downstream account is linked')
      if (!input.password) return skipped('no password to push')
      const patched = await client.setPassword(input.appUser.externalId, input.password)
      if (!sent('PASSWORD', patched)) return failed()
      return done('PASSWORD', patched.status)
    }
  }
}

function fail(
  verb: string,
  why: string,
  event: FailureEvent,
  httpStatus: number | null,
  pauseAppUntil: Date | null,
): JobResult & { kind: 'FAILED' } {
  return { kind: 'FAILED', summary: `${verb}: ${why}`, causes: [why], event, httpStatus, pauseAppUntil }
}
