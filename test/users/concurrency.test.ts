import { startTestServer, type TestServer } from '../support/harness'
import { createUser, eventsFor, getUser, lifecycle } from '../support/users'

let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

const ROUNDS = 15

test('of two transitions from ACTIVE that exclude each other, exactly one succeeds and the other is refused', async () => {
  // Suspend and resetPassword both leave ACTIVE, and neither is allowed from the other's result:
  // in any order, only one can apply.
  for (const pair of [
    ['suspendUser', 'suspendUser'],
    ['suspendUser', 'resetPassword'],
  ]) {
    for (let round = 0; round < ROUNDS; round++) {
      const { user } = await createUser(api, { password: 'correct horse battery' })
      const results = await Promise.all(pair.map((mutation) => lifecycle(api, mutation, user.id)))
      const winners = results.filter((result) => result.userErrors.length === 0)
      expect(winners).toHaveLength(1)
      const loser = results.find((result) => result.userErrors.length > 0)!
      expect(['CONFLICT', 'INVALID_TRANSITION']).toContain(loser.userErrors[0].code)
      const stored = await getUser(api, user.id)
      expect(stored.status).toBe(winners[0].user.status)
      const transitions = (await eventsFor(api, user.id)).filter((event: any) =>
        ['user.lifecycle.suspend', 'user.account.reset_password'].includes(event.type),
      )
      expect(transitions).toHaveLength(1)
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
  const results = await Promise.allSettled([
    createUser(api, { profile: { login } }),
    createUser(api, { profile: { login } }),
  ])
  const payloads = results.map((result) => (result.status === 'fulfilled' ? result.value : null))
  expect(payloads.filter((payload) => payload?.user)).toHaveLength(1)
  expect(payloads.filter((payload) => payload?.userErrors[0]?.code === 'CONFLICT')).toHaveLength(1)
})
