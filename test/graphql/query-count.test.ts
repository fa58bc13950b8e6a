import { startTestServer, type TestServer } from '../support/harness'
import { createUser } from '../support/users'
import { addMember, assignUser, createApp, createGroup } from '../support/directory'

let api: TestServer
const PREFIX = `qc${Date.now().toString(36)}`

// Enough users and groups that a query per row would show as a difference between page sizes.
beforeAll(async () => {
  api = await startTestServer({}, { recordSql: true })
  const groups = [await createGroup(api), await createGroup(api), await createGroup(api)]
  const apps = [await createApp(api), await createApp(api)]
  for (let i = 0; i < 24; i++) {
    const { user } = await createUser(api, { profile: { login: `${PREFIX}.${i}@example.com` } })
    for (const group of groups.slice(0, 1 + (i % 3))) await addMember(api, group.id, user.id)
    await assignUser(api, apps[i % 2].id, user.id)
  }
}, 120_000)
afterAll(() => api.close())

/** SQL statements one request sends (the token lookup included). */
async function statementsFor(query: string, variables: Record<string, unknown>) {
  const before = api.sql.length
  const response = await api.gql(query, variables)
  expect(response.errors).toBeUndefined()
  return { count: api.sql.length - before, data: response.data }
}

const USERS_WITH_RELATIONS = `query($first: Int, $q: String) {
  users(first: $first, filter: { q: $q }) { totalCount edges { node { id profile { login }
    groups(first: 10) { totalCount edges { node { id name } } }
    appUsers(first: 10) { edges { node { status app { id label } } } } } } } }`

const GROUPS_WITH_MEMBERS = `query($first: Int) {
  groups(first: $first) { edges { node { id name members(first: 50) { totalCount edges { node { id profile { login } } } } } } } }`

test('users with their groups and app users take the same number of statements for 2 or 24 users', async () => {
  const small = await statementsFor(USERS_WITH_RELATIONS, { first: 2, q: PREFIX })
  const large = await statementsFor(USERS_WITH_RELATIONS, { first: 100, q: PREFIX })
  expect(small.data.users.edges).toHaveLength(2)
  expect(large.data.users.edges).toHaveLength(24)
  expect(large.data.users.edges[23].node.groups.edges.length).toBeGreaterThan(0)
  expect(large.data.users.edges[23].node.appUsers.edges[0].node.app.id).toBeDefined()
  expect(large.count).toBe(small.count)
})

test('groups with their members take the same number of statements for 1 or 4 groups', async () => {
  const small = await statementsFor(GROUPS_WITH_MEMBERS, { first: 1 })
  const large = await statementsFor(GROUPS_WITH_MEMBERS, { first: 50 })
  expect(large.data.groups.edges.length).toBeGreaterThanOrEqual(4) // Everyone + 3
  expect(large.count).toBe(small.count)
})

test('the grants behind app users take the same number of statements for 2 or 24 users', async () => {
  const query = `query($first: Int, $q: String) {
    users(first: $first, filter: { q: $q }) { edges { node { appUsers(first: 10) { edges { node { assignedVia { scope group { id } } } } } } } } }`
  const small = await statementsFor(query, { first: 2, q: PREFIX })
  const large = await statementsFor(query, { first: 100, q: PREFIX })
  expect(large.data.users.edges).toHaveLength(24)
  expect(large.data.users.edges[23].node.appUsers.edges[0].node.assignedVia).toEqual([{ scope: 'USER', group: null }])
  expect(large.count).toBe(small.count)
})
