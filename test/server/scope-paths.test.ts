import { addMember, createApp, createGroup } from '../support/directory'
import { startTestServer, type TestServer } from '../support/harness'
import { watch } from '../support/subscriptions'
import { createUser, lifecycle } from '../support/users'

/**
 * A token lacking a type's scope gets nothing of that type by any path: nested fields, `node`,
 * `nodes`, mutation payloads and subscriptions (each case below was a leak).
 */

let api: TestServer
let user: { id: string; profile: { login: string; email: string } }
let group: { id: string }
let app: { id: string }
beforeAll(async () => {
  api = await startTestServer()
  user = (await createUser(api, { password: 'correct horse battery' })).user
  group = await createGroup(api)
  app = await createApp(api)
  await addMember(api, group.id, user.id)
  const assigned = await api.gql(
    `mutation($input: AssignGroupToAppInput!) { assignGroupToApp(input: $input) { userErrors { code } } }`,
    {
      input: { appId: app.id, groupId: group.id },
    },
  )
  expect(assigned.data.assignGroupToApp.userErrors).toEqual([])
})
afterAll(() => api.close())

const codes = (response: { errors?: { extensions?: { code?: string } }[] }) =>
  response.errors?.map((error) => error.extensions?.code) ?? []
/** Whether any of the user's personal data appears anywhere in a response. */
const showsUser = (response: unknown) => {
  const text = JSON.stringify(response)
  return text.includes(user.profile.login) || text.includes(user.profile.email)
}

const CREATE_RULE = `mutation($input: CreateGroupRuleInput!) { createGroupRule(input: $input) {
  groupRule { id name excludedUsers { id profile { login email } credentials { hasPassword } } } userErrors { code } } }`

test("a groups:read token reading a rule's excluded users gets FORBIDDEN and no user data", async () => {
  const created = await api.gql(CREATE_RULE, {
    input: {
      name: 'excludes',
      expression: 'user.department == "Nobody"',
      assignToGroups: [group.id],
      excludedUsers: [user.id],
    },
  })
  expect(created.data.createGroupRule.userErrors).toEqual([])
  const reader = await api.tokenWith('groups:read')

  const response = await api.gql(
    `query($id: ID!) { groupRule(id: $id) { id excludedUsers { id profile { login email } } } }`,
    { id: created.data.createGroupRule.groupRule.id },
    reader,
  )
  expect(codes(response)).toEqual(['FORBIDDEN'])
  expect(response.data.groupRule).toBeNull()
  expect(showsUser(response)).toBe(false)
})

test('a groups:manage token naming a user in a new rule creates the rule, but its payload does not show the user', async () => {
  const manager = await api.tokenWith('groups:read', 'groups:manage')
  const response = await api.gql(
    CREATE_RULE,
    {
      input: {
        name: 'probe',
        expression: 'user.department == "Nobody"',
        assignToGroups: [group.id],
        excludedUsers: [user.id],
      },
    },
    manager,
  )
  expect(codes(response)).toEqual(['FORBIDDEN'])
  expect(response.errors![0]).toMatchObject({ path: ['createGroupRule', 'groupRule', 'excludedUsers'] })
  expect(showsUser(response)).toBe(false)
  const rules = await api.gql('{ groupRules(first: 200) { edges { node { name excludedUserIds } } } }')
  expect(rules.data.groupRules.edges.map((edge: any) => edge.node)).toContainEqual({
    name: 'probe',
    excludedUserIds: [user.id],
  })
})

test("an apps:read token sees an app user's grants but not the group behind them", async () => {
  const reader = await api.tokenWith('apps:read')
  const response = await api.gql(
    `query($appId: ID!, $userId: ID!) { appUser(appId: $appId, userId: $userId) { id status assignedVia { scope group { id name } } } }`,
    { appId: app.id, userId: user.id },
    reader,
  )
  expect(codes(response)).toEqual(['FORBIDDEN'])
  expect(response.data.appUser.assignedVia).toEqual([{ scope: 'GROUP', group: null }])
  expect(JSON.stringify(response)).not.toContain(group.id)
})

test('an apps:manage token assigning a user gets the assignment done, but neither the app user nor its app in the payload', async () => {
  const other = (await createUser(api)).user
  const manager = await api.tokenWith('apps:manage')
  const response = await api.gql(
    `mutation($input: AppUserInput!) { assignUserToApp(input: $input) { appUser { id status app { id label } } userErrors { code } } }`,
    { input: { appId: app.id, userId: other.id } },
    manager,
  )
  expect(codes(response)).toEqual(['FORBIDDEN'])
  expect(response.data.assignUserToApp).toEqual({ appUser: null, userErrors: [] })
  const stored = await api.gql(
    `query($appId: ID!, $userId: ID!) { appUser(appId: $appId, userId: $userId) { scope } }`,
    { appId: app.id, userId: other.id },
  )
  expect(stored.data.appUser).toEqual({ scope: 'USER' })
})

test("a users:read token gets each of a user's groups, app users and events refused, totalCount included", async () => {
  const reader = await api.tokenWith('users:read')
  for (const field of ['groups', 'appUsers', 'events']) {
    const response = await api.gql(
      `query($id: ID!) { user(id: $id) { id ${field} { totalCount } } }`,
      { id: user.id },
      reader,
    )
    expect({ field, codes: codes(response), user: response.data.user }).toEqual({
      field,
      codes: ['FORBIDDEN'],
      user: null,
    })
  }
})

test('a groups:read token gets a group but not its members or apps, totalCount included', async () => {
  const reader = await api.tokenWith('groups:read')
  for (const field of ['members', 'apps']) {
    const response = await api.gql(
      `query($id: ID!) { group(id: $id) { id name ${field} { totalCount } } }`,
      { id: group.id },
      reader,
    )
    expect({ field, codes: codes(response), group: response.data.group }).toEqual({
      field,
      codes: ['FORBIDDEN'],
      group: null,
    })
  }
})

test('node and nodes return only the kinds the token may read; the others are FORBIDDEN at their own path', async () => {
  const reader = await api.tokenWith('groups:read')
  const single = await api.gql(
    `query($id: ID!) { node(id: $id) { id ... on User { profile { login } } } }`,
    { id: user.id },
    reader,
  )
  expect(codes(single)).toEqual(['FORBIDDEN'])
  expect(single.data.node).toBeNull()
  expect(showsUser(single)).toBe(false)

  const several = await api.gql(
    `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on User { profile { login } } ... on Group { name } } }`,
    { ids: [group.id, user.id, app.id] },
    reader,
  )
  expect(several.errors?.map((error) => [error.extensions?.code, (error as { path?: unknown }).path])).toEqual([
    ['FORBIDDEN', ['nodes', 1]],
    ['FORBIDDEN', ['nodes', 2]],
  ])
  expect(several.data.nodes).toEqual([{ id: group.id, name: expect.any(String) }, null, null])
  expect(showsUser(several)).toBe(false)
})

test('node does not tell a token whether an id of a kind it may not read exists', async () => {
  const reader = await api.tokenWith('groups:read')
  const unknownUserId = user.id.slice(0, -4) + 'zzzz'
  for (const id of [user.id, unknownUserId]) {
    const response = await api.gql(`query($id: ID!) { node(id: $id) { id } }`, { id }, reader)
    expect({ id, codes: codes(response), node: response.data.node }).toEqual({ id, codes: ['FORBIDDEN'], node: null })
  }
})

test('two subscribers of one subscription with different scopes each get what their own token allows, event by event', async () => {
  // Subscribers of one operation share each event's execution (server/shared-subscriptions.ts):
  // only those with the same scopes may share it.
  const watched = (await createUser(api, { password: 'correct horse battery' })).user
  const query = `subscription($filter: UserStatusChangedFilter) {
    userStatusChanged(filter: $filter) { status event { type data } } }`
  const variables = { filter: { userIds: [watched.id] } }
  const full = watch(api.wsClient(), query, variables)
  const weak = watch(api.wsClient(await api.tokenWith('users:read')), query, variables)
  let suspended = false
  const toggle = async () => {
    await lifecycle(api, suspended ? 'unsuspendUser' : 'suspendUser', watched.id)
    suspended = !suspended
  }
  await full.untilDelivered(toggle)
  await weak.untilDelivered(toggle)
  for (let round = 0; round < 3; round++) {
    const [fullBefore, weakBefore] = [full.results.length, weak.results.length]
    await toggle()
    const status = suspended ? 'SUSPENDED' : 'ACTIVE'
    const [seenByFull, seenByWeak] = await Promise.all([
      full.until((result) => full.results.indexOf(result) >= fullBefore),
      weak.until((result) => weak.results.indexOf(result) >= weakBefore),
    ])
    expect(seenByFull.errors).toBeUndefined()
    expect(seenByFull.data.userStatusChanged).toMatchObject({ status, event: { type: expect.any(String) } })
    expect(seenByWeak.errors?.map((error: any) => error.extensions?.code)).toEqual(['FORBIDDEN'])
    expect(JSON.stringify(seenByWeak)).not.toContain('user.lifecycle')
  }
  full.unsubscribe()
  weak.unsubscribe()
})

test('a userStatusChanged subscriber without events:read gets the change but not the event', async () => {
  const watched = (await createUser(api, { password: 'correct horse battery' })).user
  const reader = await api.tokenWith('users:read')
  const withoutEvent = watch(
    api.wsClient(reader),
    `subscription($filter: UserStatusChangedFilter) {
    userStatusChanged(filter: $filter) { status user { id } event { type actor { id displayName } data } } }`,
    { filter: { userIds: [watched.id] } },
  )
  let suspended = false
  const message = await withoutEvent.untilDelivered(async () => {
    await lifecycle(api, suspended ? 'unsuspendUser' : 'suspendUser', watched.id)
    suspended = !suspended
  })
  expect(message.errors?.map((error: any) => error.extensions?.code)).toEqual(['FORBIDDEN'])
  expect(message.errors[0].path).toEqual(['userStatusChanged', 'event'])
  expect(message.data?.userStatusChanged ?? null).toBeNull()
  expect(JSON.stringify(message)).not.toContain('user.lifecycle')
  withoutEvent.unsubscribe()
})
