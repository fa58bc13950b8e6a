import { GraphQLError } from 'graphql'
import type { AuthChecker } from 'type-graphql'
import type { Context } from './context'

export const unauthenticated = () =>
  new GraphQLError('A valid API token is required (Authorization: Bearer <token>).', {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
  })

/** Throws UNAUTHENTICATED without a token, FORBIDDEN when the token lacks one of the scopes. */
export function requireScopes(context: Context, scopes: readonly string[]): true {
  if (!context.principal) throw unauthenticated()
  const missing = scopes.filter((scope) => !context.principal!.scopes.has(scope as never))
  if (missing.length > 0) {
    throw new GraphQLError(`This token lacks the scope ${missing.join(', ')}.`, { extensions: { code: 'FORBIDDEN' } })
  }
  return true
}

/** `@Authorized(scope...)`: a token is required, and it must carry every listed scope. */
export const authChecker: AuthChecker<Context> = ({ context }, scopes) => requireScopes(context, scopes)
