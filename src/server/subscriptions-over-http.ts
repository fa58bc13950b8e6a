import type { ApolloServerPlugin } from '@apollo/server'
import { GraphQLError } from 'graphql'

/**
 * A subscription sent to POST or GET /graphql is a client mistake: subscriptions run over the
 * WebSocket and Server-Sent Events (api.md). Apollo would execute it like a query, which fails
 * inside (INTERNAL); it is refused before execution with BAD_USER_INPUT and HTTP 400, naming both.
 */
export function subscriptionsOverHttpPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return
          throw new GraphQLError(
            'Subscriptions run over the WebSocket (graphql-ws at /graphql) or Server-Sent Events (/graphql/stream), not over HTTP POST or GET.',
            { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } },
          )
        },
      }
    },
  }
}
