import { startTestServer, type TestServer } from '../support/harness'
import { createUser } from '../support/users'
import { addMember, assignGroup, assignUser, createApp, createGroup } from '../support/directory'

let api: TestServer
const PREFIX = `qc${Date.now().toString(36)}`
const APPS = 12
const USERS = 24

/**
 * Enough distinct rows behind every relation that a query per row (a loader that stopped
 * batching) shows as a difference between a small and a large page: 12 apps, 12 groups (one
 * assigned to each app), 24 users, each a member of a group and directly assigned to an app,
 * and 12 group rules each naming its own group and two excluded users.
 */
beforeAll(async () => {
  // The token stays cached for the whole file: a lookup that expired between the small and the
  // large request would add a statement to one of them (seen once under load).
  api = await startTestServer({ TOKEN_CACHE_SECONDS: '3600' }, { recordSql: true })
  const apps = []
  const groups = []
  for (let i = 0; i < APPS; i++) {
    apps.push(await createApp(api))
    groups.push(await createGroup(api))
    expect((await assignGroup(api, apps[i].id, groups[i].id)).userErrors).toEqual([])
  }
  const users = []
  for (let i = 0; i < USERS; i++) {
    const { user } = await createUser(api, { profile: { login: `${PREFIX}.${i}@example.com` } })
    users.push(user)
    await addMember(api, groups[i % APPS].id, user.id)
    if (i % 3 === 0) await addMember(api, groups[(i + 1) % APPS].id, user.id)
    expect((await assignUser(api, apps[i % APPS].id, user.id)).userErrors).toEqual([])
  }
  for (let i = 0; i < APPS; i++) {
    const response = await api.gql(
      `mutation($input: CreateGroupRuleInput!) { createGroupRule(input: $input) { userErrors { code } } }`,
      {
        input: {
          name: `rule ${i}`,
          expression: 'user.department == "none"',
          assignToGroups: [groups[i].id],
          excludedUsers: [users[2 * i].id, users[2 * i + 1].id],
        },
      },
    )
    expect(response.data.createGroupRule.userErrors).toEqual([])
  }
}, 180_000)
afterAll(() => api.close())

/** A counter fold a read started: background upkeep, whichever request it runs beside (store/counters.ts). */
const isCounterFold = (statement: string) => statement.trimStart().startsWith('WITH folded AS (')

/** SQL statements one request sends (the token lookup included). */
async function statementsFor(query: string, variables: Record<string, unknown>) {
  await api.server.services.counters.settled()
  const before = api.sql.length
  const response = await api.gql(query, variables)
  expect(response.errors).toBeUndefined()
  await api.server.services.counters.settled()
  const statements = api.sql.slice(before).filter((statement) => !isCounterFold(statement))
  return { count: statements.length, data: response.data }
}

/** The same query for a page of one parent and a page of all: the statement count must not grow. */
async function expectConstantStatements(query: string, variables: Record<string, unknown> = {}) {
  const small = await statementsFor(query, { ...variables, first: 1 })
  const large = await statementsFor(query, { ...variables, first: 100 })
  expect(large.count).toBe(small.count)
  return { large: large.data }
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
  expect(large.data.users.edges).toHaveLength(USERS)
  // Everyone and one group each; every third user is in a second group.
  const groupCounts = large.data.users.edges.map((edge: any) => edge.node.groups.edges.length)
  expect(groupCounts.filter((count: number) => count === 3)).toHaveLength(USERS / 3)
  expect(groupCounts.filter((count: number) => count === 2)).toHaveLength((USERS * 2) / 3)
  expect(new Set(large.data.users.edges.map((edge: any) => edge.node.appUsers.edges[0].node.app.id)).size).toBe(APPS)
  expect(large.count).toBe(small.count)
})

test('groups with their members take the same number of statements for 1 or 13 groups', async () => {
  const small = await statementsFor(GROUPS_WITH_MEMBERS, { first: 1 })
  const large = await statementsFor(GROUPS_WITH_MEMBERS, { first: 50 })
  expect(large.data.groups.edges).toHaveLength(APPS + 1) // Everyone + 12
  expect(large.count).toBe(small.count)
})

test('app users with their provisioning attempts take the same number of statements for 1 or 12 apps', async () => {
  const { large } = await expectConstantStatements(
    `query($first: Int) { apps(first: $first) { edges { node { users(first: 5) { edges { node { id
      attempts(first: 3) { totalCount edges { node { id outcome } } } } } } } } } }`,
  )
  expect(large.apps.edges.flatMap((edge: any) => edge.node.users.edges).length).toBeGreaterThanOrEqual(APPS)
})

// One test per by-id loader and per list that reaches it: a loader that loads row by row
// (DataLoader without batching) adds a statement per distinct id, 1 on the small page, 12 on the large.
describe('by-id loaders batch across a list', () => {
  test('appById: the app of each app user of 1 or 24 users', async () => {
    const { large } = await expectConstantStatements(
      `query($first: Int, $q: String) { users(first: $first, filter: { q: $q }) { edges { node { appUsers(first: 5) { edges { node { app { id label } } } } } } } }`,
      { q: PREFIX },
    )
    const apps = large.users.edges.map((edge: any) => edge.node.appUsers.edges[0].node.app.label)
    expect(new Set(apps).size).toBe(APPS)
  })

  test('appById: the apps assigned to each of 1 or 13 groups', async () => {
    const { large } = await expectConstantStatements(
      `query($first: Int) { groups(first: $first) { edges { node { apps(first: 5) { edges { priority node { id label } } } } } } }`,
    )
    const apps = large.groups.edges.flatMap((edge: any) => edge.node.apps.edges.map((app: any) => app.node.label))
    expect(new Set(apps).size).toBe(APPS)
  })

  test('groupById: the groups assigned to each of 1 or 12 apps', async () => {
    const { large } = await expectConstantStatements(
      `query($first: Int) { apps(first: $first) { edges { node { groups(first: 5) { edges { priority node { id name } } } } } } }`,
    )
    const groups = large.apps.edges.map((edge: any) => edge.node.groups.edges[0].node.name)
    expect(new Set(groups).size).toBe(APPS)
  })

  test('groupById: the group behind each app user of 1 or 12 apps (assignedVia)', async () => {
    const { large } = await expectConstantStatements(
      `query($first: Int) { apps(first: $first) { edges { node { users(first: 5) { edges { node { assignedVia { scope group { id name } } } } } } } } }`,
    )
    const groups = large.apps.edges.flatMap((edge: any) =>
      edge.node.users.edges.flatMap((appUser: any) =>
        appUser.node.assignedVia.filter((grant: any) => grant.group).map((grant: any) => grant.group.name),
      ),
    )
    expect(new Set(groups).size).toBe(APPS)
  })

  test('groupById: the groups each of 1 or 12 group rules assigns to', async () => {
    const { large } = await expectConstantStatements(
      `query($first: Int) { groupRules(first: $first) { edges { node { assignToGroups { id name } } } } }`,
    )
    expect(new Set(large.groupRules.edges.map((edge: any) => edge.node.assignToGroups[0].name)).size).toBe(APPS)
  })

  test('userById: the user of each app user of 1 or 12 apps', async () => {
    const { large } = await expectConstantStatements(
      `query($first: Int) { apps(first: $first) { edges { node { users(first: 5) { edges { node { user { id profile { login } } } } } } } } }`,
    )
    const users = large.apps.edges.flatMap((edge: any) =>
      edge.node.users.edges.map((appUser: any) => appUser.node.user.id),
    )
    expect(new Set(users).size).toBe(USERS)
  })

  test('userById: the users each of 1 or 12 group rules excludes', async () => {
    const { large } = await expectConstantStatements(
      `query($first: Int) { groupRules(first: $first) { edges { node { excludedUsers { id } } } } }`,
    )
    expect(
      new Set(large.groupRules.edges.flatMap((edge: any) => edge.node.excludedUsers.map((user: any) => user.id))).size,
    ).toBe(USERS)
  })
})

test('the grants behind app users take the same number of statements for 2 or 24 users', async () => {
  const query = `query($first: Int, $q: String) {
    users(first: $first, filter: { q: $q }) { edges { node { appUsers(first: 10) { edges { node { assignedVia { scope group { id } } } } } } } } }`
  const small = await statementsFor(query, { first: 2, q: PREFIX })
  const large = await statementsFor(query, { first: 100, q: PREFIX })
  expect(large.data.users.edges).toHaveLength(24)
  // Every fixture user holds one app directly: the direct grant comes first.
  expect(large.data.users.edges[23].node.appUsers.edges[0].node.assignedVia[0]).toEqual({ scope: 'USER', group: null })
  expect(large.count).toBe(small.count)
})
