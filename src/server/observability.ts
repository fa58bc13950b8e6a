import type { ApolloServerPlugin } from '@apollo/server'
import { Kind, type GraphQLSchema, type OperationDefinitionNode } from 'graphql'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Context } from '../graphql/context'
import type { Database } from '../store/database'
import type { Logger } from '../logger'
import { provisioningMetrics } from '../provisioning/provisioning-metrics'

/** The service's Prometheus metrics, one registry per server. */
export function createMetrics(db: Database) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'lifecycle_process_' })
  const requests = new Counter({
    name: 'lifecycle_graphql_requests_total',
    help: 'GraphQL operations by root field (see operationLabel) and outcome (ok or error).',
    labelNames: ['operation', 'outcome'] as const,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'lifecycle_graphql_request_duration_seconds',
    help: 'GraphQL operation latency by root field (see operationLabel).',
    labelNames: ['operation'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  })
  const errors = new Counter({
    name: 'lifecycle_graphql_errors_total',
    help: 'Errors returned to clients, by code (top-level errors and mutation userErrors).',
    labelNames: ['code'] as const,
    registers: [registry],
  })
  const subscriptions = new Gauge({
    name: 'lifecycle_subscriptions_open',
    help: 'Open GraphQL subscriptions.',
    registers: [registry],
  })
  new Gauge({
    name: 'lifecycle_database_connections',
    help: 'Database connections by state (embedded: one, always open).',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const pool = db.poolStats()
      this.set({ state: 'total' }, pool.total)
      this.set({ state: 'idle' }, pool.idle)
      this.set({ state: 'waiting' }, pool.waiting)
    },
  })
  const provisioning = provisioningMetrics(registry, db)
  return { registry, requests, duration, errors, subscriptions, provisioning }
}

export type Metrics = ReturnType<typeof createMetrics>

/** Error codes in a response: top-level `extensions.code`s and mutation `userErrors[].code`s. */
function errorCodes(
  body: { errors?: readonly { extensions?: Record<string, unknown> }[]; data?: unknown } | undefined,
): string[] {
  const codes = (body?.errors ?? []).map((error) => String(error.extensions?.code ?? 'INTERNAL'))
  const data = body?.data as Record<string, { userErrors?: { code: string }[] } | null> | null | undefined
  for (const payload of Object.values(data ?? {}))
    for (const userError of payload?.userErrors ?? []) codes.push(userError.code)
  return codes
}

/**
 * The metrics label of an operation, from a set the schema bounds (never the client's operation
 * name, which would add a series per name anyone sends): the root field it selects, `multiple`
 * for several, `introspection`, or `invalid` when the document did not resolve to an operation.
 */
export function operationLabel(
  schema: GraphQLSchema | undefined,
  operation: OperationDefinitionNode | null | undefined,
): string {
  const root = operation && schema?.getRootType(operation.operation)
  if (!operation || !root) return 'invalid'
  const names = new Set<string>()
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) return 'multiple'
    if (selection.name.value !== '__typename') names.add(selection.name.value)
  }
  if ([...names].every((name) => name.startsWith('__'))) return 'introspection'
  if (names.size > 1) return 'multiple'
  const [name] = names
  return root.getFields()[name] ? name : 'invalid'
}

/**
 * Logs one structured line per GraphQL operation (request id, token id — never the token —,
 * operation name, duration, outcome, error codes) and feeds the request metrics.
 */
export function observabilityPlugin(logger: Logger, metrics: Metrics): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint()
      return {
        async willSendResponse({ response, operationName, operation, schema }) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9
          const body = response.body.kind === 'single' ? response.body.singleResult : undefined
          const codes = errorCodes(body as Parameters<typeof errorCodes>[0])
          const topLevel = (body?.errors?.length ?? 0) > 0
          const label = operationLabel(schema, operation)
          metrics.requests.inc({ operation: label, outcome: topLevel ? 'error' : 'ok' })
          metrics.duration.observe({ operation: label }, seconds)
          for (const code of codes) metrics.errors.inc({ code })
          logger.info(
            {
              requestId: contextValue.requestId,
              tokenId: contextValue.principal?.tokenId ?? null,
              operation: operationName ?? 'anonymous',
              durationMs: Math.round(seconds * 1000 * 10) / 10,
              outcome: topLevel ? 'error' : 'ok',
              ...(codes.length ? { errorCodes: [...new Set(codes)] } : {}),
            },
            'graphql operation',
          )
        },
      }
    },
  }
}
