import type { TokenService } from '../tokens/token-service'
import type { Principal } from '../tokens/scopes'

/** The secret from `Bearer <token>` (a bare token is accepted too, as graphql-ws clients often send it). */
export function bearerSecret(header: unknown): string | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined
  const match = /^Bearer\s+(.+)$/i.exec(header.trim())
  return (match ? match[1] : header).trim()
}

export type Authentication = { kind: 'anonymous' } | { kind: 'invalid' } | { kind: 'token'; principal: Principal }

/** Resolves an Authorization value: no header is anonymous (introspection only); a bad token is invalid. */
export async function authenticate(tokens: TokenService, header: unknown): Promise<Authentication> {
  const secret = bearerSecret(header)
  if (!secret) return { kind: 'anonymous' }
  const principal = await tokens.authenticate(secret)
  return principal ? { kind: 'token', principal } : { kind: 'invalid' }
}
