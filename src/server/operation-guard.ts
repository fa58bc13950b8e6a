import { GraphQLError, type ExecutionResult, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql'
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Principal } from '../tokens/scopes'
import type { TokenService } from '../tokens/token-service'
import { formatError } from './errors'
import type { Logger } from '../logger'
import { authenticate, type Authentication } from './request-auth'

/** Why an operation may not run, in a transport-neutral form (HTTP maps it to a status, WebSocket to an error message). */
export interface Refusal {
  code: 'UNAUTHENTICATED' | 'RATE_LIMITED'
  message: string
  httpStatus: 401 | 429
  /** Seconds until the budget allows another request (RATE_LIMITED). */
  retryAfter?: number
}

export type Admission = { admitted: true; principal: Principal | null } | { admitted: false; refusal: Refusal }

export interface OperationGuard {
  /**
   * Run before every operation, whatever the transport (an HTTP request; a query, mutation or
   * subscription start on a socket): resolves the token again (through the TokenService cache, so
   * a revocation applies within TOKEN_CACHE_SECONDS, at once in this process) and takes one
   * request from its rate-limit budget (anonymous callers are counted by `anonymousKey`).
   */
  admit(authorization: unknown, anonymousKey: string): Promise<Admission>
  /** Resolves the token only (opening a socket, or checking a live subscription's token): no budget taken. */
  identify(authorization: unknown): Promise<Authentication>
  /** Keeps catalogued error codes and masks everything else as INTERNAL (logged with its cause). */
  maskError(error: GraphQLError): GraphQLFormattedError
  /** The same masking for a whole result, as sent on a socket. */
  maskResult(result: ExecutionResult): FormattedExecutionResult
}

export function createOperationGuard(options: {
  tokens: TokenService
  rateLimitPerMinute: number
  /** The request budgets (server/request-budgets.ts), null when the limit is off. */
  budgets: RateLimiterAbstract | null
  logger: Logger
}): OperationGuard {
  const { tokens, rateLimitPerMinute, budgets } = options
  const format = formatError(options.logger)

  /** Consumes one request from the key's budget; resolves to the seconds to wait when over it. */
  const overRateLimit = async (key: string): Promise<number | undefined> => {
    if (!budgets) return undefined
    try {
      await budgets.consume(key)
      return undefined
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000))
      throw rejection
    }
  }

  const maskError = (error: GraphQLError) => format(error.toJSON(), error)

  return {
    async admit(authorization, anonymousKey) {
      const authentication = await authenticate(tokens, authorization)
      if (authentication.kind === 'invalid') {
        return {
          admitted: false,
          refusal: { code: 'UNAUTHENTICATED', message: 'The API token is unknown or revoked.', httpStatus: 401 },
        }
      }
      const principal = authentication.kind === 'token' ? authentication.principal : null
      const retryAfter = await overRateLimit(principal ? `token:${principal.tokenId}` : anonymousKey)
      if (retryAfter !== undefined) {
        const message = `Rate limit of ${rateLimitPerMinute} requests a minute exceeded; retry after ${retryAfter} s.`
        return { admitted: false, refusal: { code: 'RATE_LIMITED', message, httpStatus: 429, retryAfter } }
      }
      return { admitted: true, principal }
    },
    identify: (authorization) => authenticate(tokens, authorization),
    maskError,
    maskResult(result) {
      return result.errors?.length ? { ...result, errors: result.errors.map(maskError) } : result
    },
  }
}

/** A refusal as a GraphQL error (for transports that report errors in GraphQL's shape). */
export const refusalError = (refusal: Refusal) =>
  new GraphQLError(refusal.message, {
    extensions: { code: refusal.code, ...(refusal.retryAfter ? { retryAfter: refusal.retryAfter } : {}) },
  })
