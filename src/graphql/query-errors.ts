import { GraphQLError } from 'graphql'
import { PageArgumentError } from './connection'

/** Throws a query-level VALIDATION error (queries have no userErrors). */
export function invalidArgument(message: string, field?: string[]): never {
  throw new GraphQLError(message, { extensions: { code: 'VALIDATION', field } })
}

/** Runs a list read, reporting bad page arguments as VALIDATION errors naming the argument. */
export async function listing<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    if (error instanceof PageArgumentError) invalidArgument(error.message, [error.field])
    throw error
  }
}
