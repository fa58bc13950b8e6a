import { addMember, assignGroup, assignUser, createApp, createGroup } from '../support/directory'
import { startTestServer, type TestServer } from '../support/harness'
import { createUser } from '../support/users'

/**
 * Relay paging (api.md: `first/after`, `last/before`) on every connection, root and nested: `last`
 * gives the last items before the cursor in the same ascending order, `first` with `last` keeps the
 * last of the first, and the query cost counts what a page returns.
 */

let api: TestServer
const ids = { users: [] as string[], groups: [] as string[], apps: [] as string[] }
beforeAll(async () => {
  api = await startTestServer()
  for (let i = 0; i < 5; i++) ids.users.push((await createUser(api, { activate: false })).user.id)
  for (let i = 0; i < 5; i++) ids.groups.push((await createGroup(api)).id)
  for (let i = 0; i < 5; i++) ids.apps.push((await createApp(api)).id)
  const [u0] = ids.users
  const [g0] = ids.groups
  const [a0] = ids.apps
  for (const user of ids.users) await addMember(api, g0, user)
  for (const group of ids.groups.slice(1)) await addMember(api, group, u0)
  for (const user of ids.users) await assignUser(api, a0, user)
  for (const group of ids.groups.slice(1)) await assignGroup(api, a0, group)
  for (const app of ids.apps) await assignGroup(api, app, g0)
  for (let i = 0; i < 5; i++) {
    const created = await api.gql(
      'mutation($input: CreateGroupRuleInput!) { createGroupRule(input: $input) { userErrors { code } } }',
      {
        input: { name: `rule ${i}`, expression: 'user.department == "R&D"', assignToGroups: [ids.groups[1]] },
      },
    )
    expect(created.data.createGroupRule.userErrors).toEqual([])
  }
})
afterAll(() => api.close())

const PAGE = '{ edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }'

interface Connection {
  name: string
  /** The query reading the connection with these page arguments. */
  query: (args: string) => string
  /** Where the connection sits in the data. */
  read: (data: any) => { edges: { cursor: string }[]; pageInfo: Record<string, unknown> }
  variables?: () => Record<string, unknown>
}

const root = (field: string): Connection => ({
  name: field,
  query: (args) => `{ ${field}(${args}) ${PAGE} }`,
  read: (data) => data[field],
})
const nested = (type: string, field: string, parent: () => string): Connection => ({
  name: `${type}.${field}`,
  query: (args) => `query($id: ID!) { node(id: $id) { ... on ${type} { ${field}(${args}) ${PAGE} } } }`,
  read: (data) => data.node[field],
  variables: () => ({ id: parent() }),
})

const CONNECTIONS: Connection[] = [
  root('users'),
  root('groups'),
  root('apps'),
  root('groupRules'),
  root('events'),
  nested('Group', 'members', () => ids.groups[0]),
  nested('Group', 'apps', () => ids.groups[0]),
  nested('User', 'groups', () => ids.users[0]),
  nested('User', 'appUsers', () => ids.users[0]),
  nested('User', 'events', () => ids.users[0]),
  nested('App', 'users', () => ids.apps[0]),
  nested('App', 'groups', () => ids.apps[0]),
]

async function page(connection: Connection, args: string) {
  const response = await api.gql(connection.query(args), connection.variables?.())
  expect(response.errors).toBeUndefined()
  return connection.read(response.data)
}

describe.each(CONNECTIONS.map((connection) => [connection.name, connection] as const))('%s', (_name, connection) => {
  let all: string[]
  beforeAll(async () => {
    all = (await page(connection, 'first: 200')).edges.map((edge) => edge.cursor)
    expect(all.length).toBeGreaterThanOrEqual(4)
  })

  test('last: 2 gives the last two, oldest first, with an earlier page before them', async () => {
    const last = await page(connection, 'last: 2')
    expect(last.edges.map((edge) => edge.cursor)).toEqual(all.slice(-2))
    expect(last.pageInfo).toMatchObject({ hasPreviousPage: true, startCursor: all.at(-2), endCursor: all.at(-1) })
  })

  test('last: 2 before the fourth item gives the second and third', async () => {
    const before = await page(connection, `last: 2, before: "${all[3]}"`)
    expect(before.edges.map((edge) => edge.cursor)).toEqual(all.slice(1, 3))
    expect(before.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true })
  })

  test('first: 4 with last: 2 gives the third and fourth (Relay: first, then last of those)', async () => {
    const both = await page(connection, 'first: 4, last: 2')
    expect(both.edges.map((edge) => edge.cursor)).toEqual(all.slice(2, 4))
    expect(both.pageInfo).toMatchObject({ hasPreviousPage: true })
  })

  test('last: 0 gives no items', async () => {
    expect((await page(connection, 'last: 0')).edges).toEqual([])
  })
})

describe('the query cost counts what a page returns', () => {
  test('last: 0 on a nested connection returns nothing under it, as it is costed', async () => {
    const response = await api.gql(
      `{ users(first: 200) { edges { node { groups(last: 0) { edges { node { members(first: 200) { edges { node { id } } } } } } } } } }`,
    )
    expect(response.errors).toBeUndefined()
    for (const edge of response.data.users.edges) expect(edge.node.groups.edges).toEqual([])
  })

  test('nodes(ids:) costs one item per id: 200 ids each reading 200 members is QUERY_TOO_COMPLEX', async () => {
    const query = `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Group { members(first: 200) { edges { node { id profile { login } } } } } } }`
    const refused = await api.gql(query, { ids: Array(200).fill(ids.groups[0]) })
    expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX'])
    expect(refused.data?.nodes ?? null).toBeNull()
    const answered = await api.gql(query, { ids: [ids.groups[0]] })
    expect(answered.errors).toBeUndefined()
    expect(answered.data.nodes[0].members.edges).toHaveLength(5)
  })
})
