import { GraphQLError, type ExecutionResult } from 'graphql'
import type { TokenService } from '../tokens/token-service'

type Results = AsyncIterableIterator<ExecutionResult>

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined }

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
        return (await source.return?.()) ?? DONE
      }
      const endWithError = (): IteratorResult<ExecutionResult> => {
        void finish()
        return { done: false, value: { errors: [unauthenticated()] } }
      }
      // One promise per next(), settled by the source or the revocation: racing each next() against
      // one long-lived revocation promise would leave a reaction on it per event, kept until the end.
      // Written without async/await: this runs once per event per subscriber.
      return {
        [Symbol.asyncIterator]() {
          return this
        },
        next() {
          if (finished) return Promise.resolve(DONE)
          if (revoked) return Promise.resolve(endWithError())
          return new Promise((resolve, reject) => {
            const settle = (next: IteratorResult<ExecutionResult> | 'revoked') => {
              interrupt = null
              if (finished) return resolve(DONE)
              if (next === 'revoked' || revoked) return resolve(endWithError())
              if (next.done) return resolve(next)
              const valid = stillValid()
              if (valid === true) return resolve(next)
              if (valid === false) return resolve(endWithError())
              // A revocation in this process while the check ran wins over its (earlier) answer.
              valid.then((ok) => resolve(finished ? DONE : ok && !revoked ? next : endWithError()), reject)
            }
            interrupt = settle
            source.next().then(settle, reject)
          })
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
