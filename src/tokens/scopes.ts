/** Every scope a token may carry (api.md). */
export const SCOPES = [
  'users:read',
  'users:manage',
  'groups:read',
  'groups:manage',
  'apps:read',
  'apps:manage',
  'events:read',
  'tokens:manage',
  'metrics:read',
] as const

export type Scope = (typeof SCOPES)[number]

/** The authenticated caller: an API token and what it may do. */
export interface Principal {
  tokenId: string
  name: string
  scopes: ReadonlySet<Scope>
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value)
}
