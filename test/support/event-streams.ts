import { createClient, NetworkError, type Client } from 'graphql-sse'

/** A graphql-sse client (distinct connections) on the server's /graphql/stream, with this token or none. */
export function sseClient(graphqlUrl: string, token: string | null): Client {
  return createClient({
    url: `${graphqlUrl}/stream`,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
  })
}

/** The HTTP status and typed error codes of a refused stream (graphql-sse reports it as a NetworkError). */
export async function refusal(error: unknown): Promise<{ status: number; codes: string[]; retryAfter: string | null }> {
  if (!(error instanceof NetworkError) || !error.response) throw error
  const response = error.response as Response
  const body = (await response.json()) as { errors: { extensions?: { code?: string } }[] }
  return {
    status: response.status,
    codes: body.errors.map((entry) => String(entry.extensions?.code)),
    retryAfter: response.headers.get('retry-after'),
  }
}
