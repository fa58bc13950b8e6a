import { GraphQLError, type ExecutionResult } from 'graphql'
import type { TokenService } from '../tokens/token-service'

type Results = AsyncIterableIterator<ExecutionResult>

const unauthenticated = () =>
  new GraphQLError('The API token was revoked.', { extensions: { code: 'UNAUTHENTICATED' } })

/**
 * Ends a token's live subscriptions when it is revoked (api.md: "A revoked token's subscriptions
 * end with UNAUTHENTICATED"): at once for a revoke in this process, and otherwise at the next event,
 * which is delivered only if the token still authenticates (within TOKEN_CACHE_SECONDS).
 */
export function subscriptionRevocation(tokens: TokenService) {
  const ending = new Map<string, Set<() => void>>()
  tokens.onRevoked((tokenId) => {
    const enders = ending.get(tokenId)
    ending.delete(tokenId)
    for (const end of enders ?? []) end()
  })

  return {
    /** The subscription's results, ended by one UNAUTHENTICATED result once the token is revoked. */
    guard(source: Results, tokenId: string, stillValid: () => boolean | Promise<boolean>): Results {
      let finished = false
      let revoked = false
      /** Settles the pending next() at once on revocation; null while none is pending. */
      let interrupt: ((value: 'revoked') => void) | null = null
      const end = () => {
        revoked = true
        interrupt?.('revoked')
      }
      const enders = ending.get(tokenId) ?? new Set()
      ending.set(tokenId, enders.add(end))
      const finish = async () => {
        finished = true
        enders.delete(end)
        if (enders.size === 0 && ending.get(tokenId) === enders) ending.delete(tokenId)
        return (await source.return?.()) ?? { done: true as const, value: undefined }
      }
      const endWithError = (): IteratorResult<ExecutionResult> => {
        void finish()
        return { done: false, value: { errors: [unauthenticated()] } }
      }
      // One promise per next(), settled by the source or the revocation: racing each next() against
      // one long-lived revocation promise would leave a reaction on it per event, kept until the end.
      const nextOrRevoked = () =>
        new Promise<IteratorResult<ExecutionResult> | 'revoked'>((resolve, reject) => {
          interrupt = resolve
          source.next().then(resolve, reject)
        })
      // Not an async generator: its return() would wait for a pending next(), so an idle subscription could not be ended.
      return {
        [Symbol.asyncIterator]() {
          return this
        },
        async next() {
          if (finished) return { done: true, value: undefined }
          const next = revoked ? 'revoked' : await nextOrRevoked()
          interrupt = null
          if (finished) return { done: true, value: undefined }
          if (next === 'revoked' || revoked) return endWithError()
          if (next.done) return next
          const valid = stillValid()
          if (!(valid === true || (valid !== false && (await valid)))) return endWithError()
          return next
        },
        return: finish,
        async throw(error: unknown) {
          await finish()
          throw error
        },
      }
    },
  }
}
