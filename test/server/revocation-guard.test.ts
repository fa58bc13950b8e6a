import type { ExecutionResult } from 'graphql'
import { subscriptionRevocation } from '../../src/server/revocation'
import type { TokenService } from '../../src/tokens/token-service'

// The revocation guard around a subscription's results (src/server/revocation.ts), driven directly so
// the test decides when an event, a revocation and a token check happen relative to each other.

function fakeTokens() {
  const listeners = new Set<(tokenId: string) => void>()
  const tokens = {
    onRevoked(listener: (tokenId: string) => void) {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
  } as unknown as TokenService
  return { tokens, revoke: (tokenId: string) => listeners.forEach((listener) => listener(tokenId)) }
}

/** A source whose next() waits for push(); return() ends a pending next(). */
function source() {
  const queued: ExecutionResult[] = []
  let waiting: ((result: IteratorResult<ExecutionResult>) => void) | null = null
  let returned = 0
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]() {
      return this
    },
    next() {
      if (queued.length) return Promise.resolve({ done: false, value: queued.shift()! })
      return new Promise((resolve) => (waiting = resolve))
    },
    async return() {
      returned++
      waiting?.({ done: true, value: undefined })
      waiting = null
      return { done: true, value: undefined }
    },
  }
  return {
    iterator,
    push(result: ExecutionResult) {
      if (waiting) (waiting({ done: false, value: result }), (waiting = null))
      else queued.push(result)
    },
    returned: () => returned,
  }
}

const codes = (result: IteratorResult<ExecutionResult>) =>
  result.done ? 'done' : (result.value.errors?.map((error) => error.extensions.code) ?? result.value.data)

test('a revocation while next() waits ends it with one UNAUTHENTICATED result, then done', async () => {
  const { tokens, revoke } = fakeTokens()
  const events = source()
  const guarded = subscriptionRevocation(tokens).guard(events.iterator, 'tok', () => true)
  const pending = guarded.next()
  revoke('tok')
  expect(codes(await pending)).toEqual(['UNAUTHENTICATED'])
  expect(codes(await guarded.next())).toBe('done')
  expect(events.returned()).toBe(1)
})

test('an event whose token check is still running when the token is revoked in this process is not delivered', async () => {
  const { tokens, revoke } = fakeTokens()
  const events = source()
  let answer!: (valid: boolean) => void
  const check = new Promise<boolean>((resolve) => (answer = resolve))
  const guarded = subscriptionRevocation(tokens).guard(events.iterator, 'tok', () => check)
  const pending = guarded.next()
  events.push({ data: { event: 1 } })
  await new Promise((resolve) => setImmediate(resolve))
  revoke('tok') // committed: revokeApiToken may already have answered
  answer(true) // the check read the token before the revoke
  expect(codes(await pending)).toEqual(['UNAUTHENTICATED'])
  expect(codes(await guarded.next())).toBe('done')
})
