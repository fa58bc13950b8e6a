/**
 * The catalogue of error codes a client may branch on. Messages may change; codes may not.
 * Business failures travel as `userErrors` in mutation payloads; the last group are
 * top-level GraphQL errors for transport, authentication and limits.
 */
export const ErrorCodes = {
  INVALID_TRANSITION: "The operation is not allowed from the entity's current status.",
  NOT_FOUND: 'No entity with that id (or it was deleted).',
  VALIDATION: 'An input value is malformed; `field` names its path in the input.',
  CONFLICT: 'A unique value is taken, or a concurrent change won the race.',
  INVALID_TOKEN: 'A one-time activation or reset token is unknown, used, or expired.',
  AUTHENTICATION_FAILED: 'Sign-in refused: wrong login or password, or the user cannot sign in now.',
  NOT_MODIFIABLE: 'The entity is managed elsewhere: BUILT_IN groups by the system, APP_GROUP membership by imports.',
  PROVISIONING_NOT_ENABLED: 'The app has no enabled provisioning connection.',
  FEATURE_NOT_SUPPORTED: 'The app does not support the requested feature.',
  DOWNSTREAM_FAILED:
    "The app's downstream (SCIM) server could not be read: refused credentials, an error, a timeout or no answer.",
  // Top-level errors (extensions.code), never userErrors:
  UNAUTHENTICATED: 'No valid API token on the request.',
  FORBIDDEN: 'The token lacks the scope the field or mutation needs.',
  RATE_LIMITED: 'The token exceeded its requests per minute; retry after `Retry-After` seconds.',
  QUERY_TOO_COMPLEX: 'The document is deeper or costlier than the configured limits.',
  BAD_USER_INPUT: 'The request is not a valid GraphQL request.',
  INTERNAL: 'An unexpected failure; details are logged server-side only.',
} as const

export type ErrorCode = keyof typeof ErrorCodes

/** A business failure returned (not thrown) by services. */
export interface DomainError {
  code: ErrorCode
  message: string
  field?: string[]
}

export const domainError = (code: ErrorCode, message: string, field?: string[]): DomainError => ({
  code,
  message,
  field,
})

/** A service outcome: the value, or the business errors that prevented it. */
export type Result<T> = { ok: true; value: T } | { ok: false; errors: DomainError[] }

export const ok = <T>(value: T): Result<T> => ({ ok: true, value })
export const fail = <T = never>(...errors: DomainError[]): Result<T> => ({ ok: false, errors })
