// The live feed: the lifecycleEvents subscription over graphql-ws, resumed with the cursor of
// the last event received whenever the connection drops. graphql-ws would re-send the original
// subscription (with its original `after`) on its own retries, so this module owns reconnecting:
// every new connection subscribes afresh from the last cursor, and a sequence already shown is
// never shown twice.
import { createClient, type Client } from 'graphql-ws'
import type { FormattedExecutionResult } from 'graphql'
import { WS_URL, type GraphQLFailure } from './graphql'
import { LIFECYCLE_EVENTS, type FeedEvent } from './operations'

export type LinkState =
  | { kind: 'connecting' }
  | { kind: 'live' }
  | { kind: 'reconnecting'; reason: string }
  /** The server refused the token: retrying with the same one is pointless. */
  | { kind: 'refused'; reason: string }

export interface LiveFeedOptions {
  token: string
  /** The last event already shown, if any: the feed resumes after it. */
  resumeAfter: { cursor: string; sequence: number } | null
  onEvent(event: FeedEvent): void
  onState(state: LinkState): void
}

const REFUSED_CLOSE_CODES = [4401, 4403]
const REFUSED_ERROR_CODES = ['UNAUTHENTICATED', 'FORBIDDEN']

/** Backoff before reconnect attempt n (1, 2, ...): 0.5 s doubling up to 10 s, with jitter against herds. */
const backoffMs = (attempt: number) => Math.min(500 * 2 ** (attempt - 1), 10_000) * (0.75 + Math.random() / 2)

const isCloseEvent = (value: unknown): value is { code: number; reason: string } =>
  typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'number'

function describe(failure: unknown): { reason: string; refused: boolean } {
  if (Array.isArray(failure)) {
    const first = failure[0] as GraphQLFailure | undefined
    const code = first?.extensions?.code
    return { reason: first?.message ?? 'the subscription failed', refused: REFUSED_ERROR_CODES.includes(code ?? '') }
  }
  if (isCloseEvent(failure))
    return {
      reason: `connection closed (${failure.code}${failure.reason ? ` ${failure.reason}` : ''})`,
      refused: REFUSED_CLOSE_CODES.includes(failure.code),
    }
  if (failure instanceof Error) return { reason: failure.message, refused: false }
  return { reason: 'connection lost', refused: false }
}

export function openLiveFeed(options: LiveFeedOptions): { close(): void } {
  let resumeAfter = options.resumeAfter
  let client: Client | null = null
  let attempt = 0
  let timer: number | undefined
  let closed = false

  const connect = () => {
    const current = createClient({
      url: WS_URL,
      connectionParams: { authorization: `Bearer ${options.token}` },
      lazy: false,
      retryAttempts: 0, // reconnecting is ours (see the top of this file)
      onNonLazyError: () => {}, // reported to the subscription's error sink below
      on: {
        connected: () => {
          attempt = 0
          options.onState({ kind: 'live' })
        },
      },
    })
    client = current
    current.subscribe<{ lifecycleEvents: FeedEvent }>(
      { query: LIFECYCLE_EVENTS, variables: { after: resumeAfter?.cursor ?? null } },
      {
        next: (result: FormattedExecutionResult<{ lifecycleEvents: FeedEvent }>) => {
          if (result.errors?.length) return fail(current, result.errors)
          const event = result.data?.lifecycleEvents
          if (!event || (resumeAfter && event.sequence <= resumeAfter.sequence)) return
          resumeAfter = { cursor: event.cursor, sequence: event.sequence }
          options.onEvent(event)
        },
        error: (error) => fail(current, error),
        complete: () => fail(current, new Error('the server ended the stream')),
      },
    )
  }

  /** The connection `failed` is over: reconnect from the last cursor, unless the token was refused. */
  const fail = (failed: Client, failure: unknown) => {
    if (failed !== client || closed) return // a stale connection's late callbacks
    client = null
    void failed.dispose()
    const { reason, refused } = describe(failure)
    if (refused) return options.onState({ kind: 'refused', reason })
    options.onState({ kind: 'reconnecting', reason })
    attempt += 1
    timer = window.setTimeout(connect, backoffMs(attempt))
  }

  options.onState({ kind: 'connecting' })
  connect()
  return {
    close() {
      closed = true
      window.clearTimeout(timer)
      void client?.dispose()
      client = null
    },
  }
}
