// The dashboard's only way to the server: the public GraphQL endpoint over HTTP POST.
import type { FormattedExecutionResult } from 'graphql'

export const HTTP_URL = new URL('/graphql', location.href).href
export const WS_URL = HTTP_URL.replace(/^http/, 'ws') // http: -> ws:, https: -> wss:

/** A GraphQL error as the server sends it (code in extensions). */
export type GraphQLFailure = { message: string; extensions?: { code?: string; [key: string]: unknown } }

export class RequestFailed extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message)
  }
}

/** Runs a query or mutation with the token; resolves to its data, rejects with the first error. */
export async function request<T>(token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  let response: Response
  try {
    response = await fetch(HTTP_URL, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json;q=0.9',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query, variables }),
      credentials: 'same-origin',
    })
  } catch (error) {
    throw new RequestFailed(`Could not reach the server: ${error instanceof Error ? error.message : error}`, undefined)
  }
  let body: FormattedExecutionResult<T>
  try {
    body = (await response.json()) as FormattedExecutionResult<T>
  } catch {
    throw new RequestFailed(`HTTP ${response.status} ${response.statusText}`, undefined)
  }
  const failure = body.errors?.[0] as GraphQLFailure | undefined
  if (failure || !body.data) throw new RequestFailed(failure?.message ?? 'No data', failure?.extensions?.code)
  return body.data
}

/** The token kept for this browser tab only (sessionStorage dies with the tab). */
export const tokenStore = {
  key: 'lifecycle-gateway.dashboard.token',
  read: (): string | null => sessionStorage.getItem(tokenStore.key),
  write: (token: string) => sessionStorage.setItem(tokenStore.key, token),
  clear: () => sessionStorage.removeItem(tokenStore.key),
}
