import { GraphQLError } from 'graphql'
import type { DomainError } from '../errors'
import { PageArgumentError } from './connection'

/** Throws a domain error as a query-level error with its code and field (queries have no userErrors). */
export function queryFailure({ code, message, field }: DomainError): never {
  throw new GraphQLError(message, { extensions: { code, field } })
}

/**
 * Throws a query-level BAD_USER_INPUT naming the argument: a value the server never issued or allows
 * (api.md: top-level errors are for transport, auth and limits; a bad argument is BAD_USER_INPUT).
 */
export function badArgument(message: string, field: string[]): never {
  throw new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', field } })
}

/** Runs a list read, reporting bad page arguments (a cursor not issued, a negative size) as BAD_USER_INPUT naming the argument. */
export async function listing<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    if (error instanceof PageArgumentError) badArgument(error.message, error.field)
    throw error
  }
}
