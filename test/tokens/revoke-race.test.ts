import { SYSTEM_ACTOR } from '../../src/events/event-log'
import { startTestServer, type TestServer } from '../support/harness'

/**
 * "Revocation applies at once in the process that revokes" (README), even while requests with the
 * token keep resolving it during the revoke: on PostgreSQL a lookup can read the row just before
 * the revoke commits. Trivially serial on the embedded database.
 */

let api: TestServer
beforeAll(async () => {
  api = await startTestServer() // TOKEN_CACHE_SECONDS at its default: lookups are cached
})
afterAll(() => api.close())

const ROUNDS = 30
const CONCURRENT_LOOKUPS = 4

test('after revokeApiToken returns, no request with the token succeeds, however many lookups raced the revoke', async () => {
  const tokens = api.server.services.tokens
  for (let round = 0; round < ROUNDS; round++) {
    const secret = await api.tokenWith('users:read')
    const principal = (await tokens.authenticate(secret))!
    let revoking = true
    const lookups = Array.from({ length: CONCURRENT_LOOKUPS }, async () => {
      // setImmediate between lookups: a cache hit never leaves the microtask queue, and the revoke must get its turn.
      while (revoking) await Promise.all([tokens.authenticate(secret), new Promise(setImmediate)])
    })
    const revoked = await api.gql(`mutation($id: ID!) { revokeApiToken(input: { id: $id }) { userErrors { code } } }`, {
      id: principal.tokenId,
    })
    expect(revoked.data.revokeApiToken.userErrors).toEqual([])

    // The lookups still running now may read the row before or after the commit; none may be trusted.
    const during = [tokens.authenticate(secret), api.gql('{ viewer { tokenId } }', {}, secret)]
    revoking = false
    await Promise.all(lookups)
    const [lookup, request] = (await Promise.all(during)) as [unknown, { status: number }]
    const afterwards = await api.gql('{ viewer { tokenId } }', {}, secret)
    expect({ round, lookup, during: request.status, afterwards: afterwards.status }).toEqual({
      round,
      lookup: null,
      during: 401,
      afterwards: 401,
    })
  }
})

test('revoking through the service tells listeners the token id once it has committed', async () => {
  const tokens = api.server.services.tokens
  const secret = await api.tokenWith('users:read')
  const { tokenId } = (await tokens.authenticate(secret))!
  const told: string[] = []
  const stop = tokens.onRevoked((id) => void told.push(id))
  try {
    expect((await tokens.revoke(tokenId, SYSTEM_ACTOR)).ok).toBe(true)
    expect(told).toEqual([tokenId])
    expect((await tokens.revoke(tokenId, SYSTEM_ACTOR)).ok).toBe(false)
    expect(told).toHaveLength(1)
  } finally {
    stop()
  }
})
