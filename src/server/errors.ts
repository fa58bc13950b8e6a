import type { Request, Response } from 'express'
import type { GraphQLFormattedError } from 'graphql'
import { ErrorCodes } from '../errors'
import type { Logger } from '../logger'

// Apollo's codes for documents that do not parse, validate or form a request.
const BAD_INPUT_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'BAD_USER_INPUT',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_SUPPORTED',
])

/**
 * Keeps errors with a catalogued code; masks everything else as INTERNAL (logged with its
 * cause here), so no stack trace, SQL or driver message reaches a client.
 */
export function formatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = String(formatted.extensions?.code ?? '')
    const { field, resumeFrom } = (formatted.extensions ?? {}) as { field?: unknown; resumeFrom?: unknown }
    if (BAD_INPUT_CODES.has(code))
      return {
        message: formatted.message,
        locations: formatted.locations,
        extensions: { code: 'BAD_USER_INPUT', ...(field ? { field } : {}) },
      }
    if (code in ErrorCodes && code !== 'INTERNAL') {
      return {
        message: formatted.message,
        path: formatted.path,
        extensions: { code, ...(field ? { field } : {}), ...(resumeFrom ? { resumeFrom } : {}) },
      }
    }
    logger.error(
      { err: (error as { originalError?: unknown })?.originalError ?? error, path: formatted.path },
      'unexpected error',
    )
    return { message: 'Internal server error.', path: formatted.path, extensions: { code: 'INTERNAL' } }
  }
}

/** A GraphQL-shaped error body for failures outside GraphQL execution (bad JSON, auth, limits). */
export const errorBody = (code: string, message: string) => ({ errors: [{ message, extensions: { code } }] })

const GRAPHQL_RESPONSE = 'application/graphql-response+json'

/**
 * Answers a failure outside GraphQL execution with a GraphQL-shaped body, in the media type the
 * client prefers: application/graphql-response+json when it asks for that over application/json
 * (GraphQL over HTTP), as Apollo answers the requests it executes.
 */
export function sendError(req: Request, res: Response, status: number, code: string, message: string): void {
  const type =
    req.accepts(['application/json', GRAPHQL_RESPONSE]) === GRAPHQL_RESPONSE ? GRAPHQL_RESPONSE : 'application/json'
  res
    .status(status)
    .type(type)
    .send(JSON.stringify(errorBody(code, message)))
}
