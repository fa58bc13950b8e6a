import { startTestServer, type TestServer } from '../support/harness'
import { createUser, eventsFor, getUser, lifecycle } from '../support/users'

let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

test('two concurrent conflicting transitions on one user do not both succeed', async () => {
  for (let round = 0; round < 5; round++) {
    const { user } = await createUser(api, { password: 'correct horse battery' })
    const [suspend, deactivate] = await Promise.all([
      lifecycle(api, 'suspendUser', user.id),
      lifecycle(api, 'deactivateUser', user.id),
    ])
    const winners = [suspend, deactivate].filter((result) => result.userErrors.length === 0)
    expect(winners.length).toBeGreaterThanOrEqual(1)
    const stored = await getUser(api, user.id)
    const events = (await eventsFor(api, user.id)).map((event: any) => event.type)
    if (winners.length === 2) {
      // Serialized rather than raced: suspend committed first, then deactivation (allowed from SUSPENDED).
      expect(stored.status).toBe('DEPROVISIONED')
      expect(events.slice(-2)).toEqual(['user.lifecycle.suspend', 'user.lifecycle.deactivate'])
    } else {
      const loser = winners[0] === suspend ? deactivate : suspend
      expect(['CONFLICT', 'INVALID_TRANSITION']).toContain(loser.userErrors[0].code)
      expect(stored.status).toBe(winners[0].user.status)
      expect(events.filter((type: string) => type === 'user.lifecycle.suspend' || type === 'user.lifecycle.deactivate')).toHaveLength(1)
    }
  }
})

test('of many concurrent suspends on one ACTIVE user exactly one succeeds and writes one event', async () => {
  const { user } = await createUser(api, { password: 'correct horse battery' })
  const results = await Promise.all(Array.from({ length: 6 }, () => lifecycle(api, 'suspendUser', user.id)))
  const succeeded = results.filter((result) => result.userErrors.length === 0)
  expect(succeeded).toHaveLength(1)
  for (const failed of results.filter((result) => result.userErrors.length > 0)) {
    expect(['CONFLICT', 'INVALID_TRANSITION']).toContain(failed.userErrors[0].code)
  }
  const suspends = (await eventsFor(api, user.id)).filter((event: any) => event.type === 'user.lifecycle.suspend')
  expect(suspends).toHaveLength(1)
})

test('two users created concurrently with the same login: one wins, the other gets CONFLICT', async () => {
  const login = `race.${Date.now()}@example.com`
  const results = await Promise.allSettled([createUser(api, { profile: { login } }), createUser(api, { profile: { login } })])
  const payloads = results.map((result) => (result.status === 'fulfilled' ? result.value : null))
  expect(payloads.filter((payload) => payload?.user)).toHaveLength(1)
  expect(payloads.filter((payload) => payload?.userErrors[0]?.code === 'CONFLICT')).toHaveLength(1)
})
