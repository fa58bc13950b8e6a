import { startTestServer, type TestServer } from '../support/harness'
import { addMember, appUser, assignGroup, createApp, createGroup } from '../support/directory'
import { createUser } from '../support/users'

/**
 * Two admins clicking at once: each pair of requests is raced many times, and the invariant is
 * checked after every round. On PostgreSQL the requests really overlap; on the embedded database
 * they run one after the other, where the same invariants must hold too.
 */
const ROUNDS = 20

let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

let counter = 0
const tag = () => `r${Date.now().toString(36)}${++counter}`
const ERRORS = 'userErrors { code message field }'

/** A mutation's payload; a top-level error (INTERNAL, a deadlock) fails the test with its text. */
async function mutate(field: string, inputType: string, input: Record<string, unknown>, selection: string) {
  const response = await api.gql(
    `mutation($input: ${inputType}!) { ${field}(input: $input) { ${selection} ${ERRORS} } }`,
    { input },
  )
  expect(response.errors).toBeUndefined()
  return response.data[field]
}

const activeUser = async (profile: Record<string, unknown> = {}) =>
  (await createUser(api, { password: 'correct horse battery', profile })).user
const codes = (...payloads: { userErrors: { code: string }[] }[]) =>
  payloads.map((payload) => payload.userErrors[0]?.code ?? 'OK').sort()

async function membersOf(groupId: string): Promise<string[]> {
  const response = await api.gql(
    `query($id: ID!) { group(id: $id) { members(first: 100) { edges { node { id } } } } }`,
    { id: groupId },
  )
  return response.data.group.members.edges.map((edge: any) => edge.node.id).sort()
}

test('removing a user from the granting group while the app is assigned to them directly leaves a live, direct app user', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const [app, group, user] = [await createApp(api), await createGroup(api), await activeUser()]
    await assignGroup(api, app.id, group.id)
    await addMember(api, group.id, user.id)
    const [removed, assigned] = await Promise.all([
      mutate('removeGroupMember', 'GroupMemberInput', { groupId: group.id, userId: user.id }, 'group { id }'),
      mutate('assignUserToApp', 'AppUserInput', { appId: app.id, userId: user.id }, 'appUser { id }'),
    ])
    expect(codes(removed, assigned)).toEqual(['OK', 'OK'])
    expect(await appUser(api, app.id, user.id)).toMatchObject({
      status: 'ACTIVE',
      scope: 'USER',
      assignedVia: [{ scope: 'USER', group: null }],
    })
  }
})

test('a user granted one app directly and through a group at the same moment gets one live app user, scope USER', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const [app, group, user] = [await createApp(api), await createGroup(api), await activeUser()]
    await assignGroup(api, app.id, group.id)
    const [joined, assigned] = await Promise.all([
      mutate('addGroupMember', 'GroupMemberInput', { groupId: group.id, userId: user.id }, 'group { id }'),
      mutate('assignUserToApp', 'AppUserInput', { appId: app.id, userId: user.id }, 'appUser { id }'),
    ])
    expect(codes(joined, assigned)).toEqual(['OK', 'OK'])
    const granted = await appUser(api, app.id, user.id)
    expect(granted).toMatchObject({ status: 'ACTIVE', scope: 'USER' })
    expect(granted.assignedVia.map((via: any) => via.scope).sort()).toEqual(['GROUP', 'USER'])
  }
})

test('a user who joins a group while the group is assigned to an app gets the app', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const [app, group, user] = [await createApp(api), await createGroup(api), await activeUser()]
    const [assigned, joined] = await Promise.all([
      mutate('assignGroupToApp', 'AssignGroupToAppInput', { appId: app.id, groupId: group.id }, 'priority'),
      mutate('addGroupMember', 'GroupMemberInput', { groupId: group.id, userId: user.id }, 'group { id }'),
    ])
    expect(codes(assigned, joined)).toEqual(['OK', 'OK'])
    expect(await appUser(api, app.id, user.id)).toMatchObject({ status: 'ACTIVE', scope: 'GROUP' })
  }
})

test('a user deactivated while their group is assigned to an app holds no live app user', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const [app, group, user] = [await createApp(api), await createGroup(api), await activeUser()]
    await addMember(api, group.id, user.id)
    const [assigned, deactivated] = await Promise.all([
      mutate('assignGroupToApp', 'AssignGroupToAppInput', { appId: app.id, groupId: group.id }, 'priority'),
      mutate('deactivateUser', 'DeactivateUserInput', { id: user.id }, 'user { id }'),
    ])
    expect(codes(assigned, deactivated)).toEqual(['OK', 'OK'])
    expect((await appUser(api, app.id, user.id))?.status ?? 'DEPROVISIONED').toBe('DEPROVISIONED')
  }
})

test('two concurrent direct assignments of one app to one user: one succeeds, the other is CONFLICT', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const [app, user] = [await createApp(api), await activeUser()]
    const assign = () => mutate('assignUserToApp', 'AppUserInput', { appId: app.id, userId: user.id }, 'appUser { id }')
    const results = await Promise.all([assign(), assign()])
    expect(codes(...results)).toEqual(['CONFLICT', 'OK'])
    expect(await appUser(api, app.id, user.id)).toMatchObject({ status: 'ACTIVE', scope: 'USER' })
  }
})

test('two concurrent profile updates of different custom attributes keep both', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const user = await activeUser({ custom: { kept: 'yes' } })
    const update = (custom: Record<string, unknown>) =>
      mutate('updateUser', 'UpdateUserInput', { id: user.id, profile: { custom } }, 'user { id }')
    const results = await Promise.all([update({ costCenter: `cc-${round}` }), update({ badge: `b-${round}` })])
    expect(codes(...results)).toEqual(['OK', 'OK'])
    const stored = await api.gql(`query($id: ID!) { user(id: $id) { profile { custom } } }`, { id: user.id })
    expect(stored.data.user.profile.custom).toEqual({ kept: 'yes', costCenter: `cc-${round}`, badge: `b-${round}` })
  }
})

test('a rule edited while it is being activated ends ACTIVE with exactly the members its current expression selects', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const [before, after] = [`Before ${tag()}`, `After ${tag()}`]
    const [oldMatch, newMatch] = [await activeUser({ department: before }), await activeUser({ department: after })]
    const group = await createGroup(api)
    const created = await mutate(
      'createGroupRule',
      'CreateGroupRuleInput',
      { name: `rule ${tag()}`, expression: `user.department == "${before}"`, assignToGroups: [group.id] },
      'groupRule { id name }',
    )
    const rule = created.groupRule
    const [edited, activated] = await Promise.all([
      mutate(
        'updateGroupRule',
        'UpdateGroupRuleInput',
        { id: rule.id, name: rule.name, expression: `user.department == "${after}"` },
        'groupRule { id }',
      ),
      mutate('activateGroupRule', 'GroupRuleIdInput', { id: rule.id }, 'groupRule { id }'),
    ])
    expect(activated.userErrors).toEqual([])
    expect(['OK', 'INVALID_TRANSITION']).toContain(codes(edited)[0])
    const stored = await api.gql(`query($id: ID!) { groupRule(id: $id) { status expression } }`, { id: rule.id })
    expect(stored.data.groupRule.status).toBe('ACTIVE')
    const expected = stored.data.groupRule.expression.includes(after) ? newMatch : oldMatch
    expect(stored.data.groupRule.expression).toBe(
      edited.userErrors.length ? `user.department == "${before}"` : `user.department == "${after}"`,
    )
    expect(await membersOf(group.id)).toEqual([expected.id])
  }
})

test('editing a group while its members change neither deadlocks nor fails', async () => {
  const users = await Promise.all(Array.from({ length: 6 }, () => activeUser()))
  for (let round = 0; round < ROUNDS; round++) {
    const group = await createGroup(api)
    const edit = (input: Record<string, unknown>) =>
      mutate('updateGroup', 'UpdateGroupInput', { id: group.id, ...input }, 'group { id }')
    const results = await Promise.all([
      ...users.map((user) =>
        mutate('addGroupMember', 'GroupMemberInput', { groupId: group.id, userId: user.id }, 'group { id }'),
      ),
      edit({ name: `renamed ${tag()}` }),
      edit({ description: `described ${round}` }),
      edit({ description: `described again ${round}` }),
    ])
    expect(codes(...results).every((code) => code === 'OK')).toBe(true)
    expect(await membersOf(group.id)).toEqual(users.map((user) => user.id).sort())
  }
})

test('two groups created at once with one name: one is created, the other is CONFLICT on name', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const name = `same ${tag()}`
    const create = () => mutate('createGroup', 'CreateGroupInput', { name }, 'group { id }')
    const results = await Promise.all([create(), create()])
    expect(codes(...results)).toEqual(['CONFLICT', 'OK'])
    expect(results.find((result) => result.userErrors.length)!.userErrors[0].field).toEqual(['name'])
    const found = await api.gql(
      `query($q: String!) { groups(filter: { q: $q }, first: 10) { edges { node { name } } } }`,
      { q: name },
    )
    expect(found.data.groups.edges).toHaveLength(1)
  }
})

test('one group assigned to one app twice at once: one assignment, the other request is CONFLICT', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const [app, group] = [await createApp(api), await createGroup(api)]
    const assign = () =>
      mutate('assignGroupToApp', 'AssignGroupToAppInput', { appId: app.id, groupId: group.id }, 'priority')
    const results = await Promise.all([assign(), assign()])
    expect(codes(...results)).toEqual(['CONFLICT', 'OK'])
    const groups = await api.gql(`query($id: ID!) { app(id: $id) { groups { totalCount } } }`, { id: app.id })
    expect(groups.data.app.groups.totalCount).toBe(1)
  }
})

test('an app deactivated while a user is assigned to it: either the assignment came first and holds a live app user, or it is refused', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const [app, user] = [await createApp(api), await activeUser()]
    const [assigned, deactivated] = await Promise.all([
      mutate('assignUserToApp', 'AppUserInput', { appId: app.id, userId: user.id }, 'appUser { id status }'),
      mutate('deactivateApp', 'AppIdInput', { id: app.id }, 'app { status }'),
    ])
    expect(deactivated.userErrors).toEqual([])
    if (assigned.userErrors.length) {
      expect(codes(assigned)).toEqual(['INVALID_TRANSITION'])
      expect(await appUser(api, app.id, user.id)).toBeNull()
    } else {
      // Assignments made before the deactivation stay as they are (domain.md 1.6).
      expect(await appUser(api, app.id, user.id)).toMatchObject({ status: 'ACTIVE', scope: 'USER' })
    }
  }
})
