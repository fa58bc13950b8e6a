import { startTestServer, type TestServer } from '../support/harness'
import { createUser, eventsFor, lifecycle } from '../support/users'
import {
  addMember,
  appUser,
  assignGroup,
  assignUser,
  createApp,
  createGroup,
  enableProvisioning,
  jobsOf,
  markProvisioned,
  removeMember,
  unassignGroup,
  unassignUser,
} from '../support/directory'

let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

const PASSWORD = 'correct horse battery'

async function setAppStatus(id: string, mutation: 'activateApp' | 'deactivateApp') {
  const response = await api.gql(
    `mutation($id: ID!) { ${mutation}(input: { id: $id }) { app { status } userErrors { code message } } }`,
    { id },
  )
  expect(response.data[mutation].userErrors).toEqual([])
}
const activeUser = async () => (await createUser(api, { password: PASSWORD })).user

describe('direct assignments', () => {
  test('assigning a user to an app without provisioning gives an ACTIVE app user at once, syncState DISABLED', async () => {
    const app = await createApp(api)
    const user = await activeUser()
    const { appUser: assigned, userErrors } = await assignUser(api, app.id, user.id)
    expect(userErrors).toEqual([])
    expect(assigned).toMatchObject({
      status: 'ACTIVE',
      syncState: 'DISABLED',
      scope: 'USER',
      externalId: null,
      assignedVia: [{ scope: 'USER', group: null }],
    })
    expect(await jobsOf(api, assigned.id)).toEqual([])
    const types = (await eventsFor(api, user.id)).map((event: any) => event.type)
    expect(types).toContain('application.user_membership.add')
  })

  test('assigning a user to an app with provisioning stages the app user and queues a create job in the same transaction', async () => {
    const app = await createApp(api)
    await enableProvisioning(api, app.id)
    const user = await activeUser()
    const { appUser: assigned } = await assignUser(api, app.id, user.id)
    expect(assigned).toMatchObject({ status: 'STAGED', syncState: 'OUT_OF_SYNC', externalId: null })
    expect(await jobsOf(api, assigned.id)).toEqual(['CREATE:QUEUED'])
  })

  test('assigning the same user twice is a CONFLICT and changes nothing', async () => {
    const app = await createApp(api)
    const user = await activeUser()
    const first = (await assignUser(api, app.id, user.id)).appUser
    const second = await assignUser(api, app.id, user.id)
    expect(second.userErrors[0].code).toBe('CONFLICT')
    expect(await appUser(api, app.id, user.id)).toEqual(first)
  })

  test('a DEPROVISIONED user cannot be assigned an app', async () => {
    const app = await createApp(api)
    const user = await activeUser()
    await lifecycle(api, 'deactivateUser', user.id)
    const result = await assignUser(api, app.id, user.id)
    expect(result).toMatchObject({ appUser: null, userErrors: [{ code: 'INVALID_TRANSITION' }] })
    expect(await appUser(api, app.id, user.id)).toBeNull()
  })

  test('an INACTIVE app cannot be assigned', async () => {
    const app = await createApp(api)
    await api.gql(`mutation($id: ID!) { deactivateApp(input: { id: $id }) { app { status } } }`, { id: app.id })
    const user = await activeUser()
    expect((await assignUser(api, app.id, user.id)).userErrors[0].code).toBe('INVALID_TRANSITION')
  })

  test('unassigning the last grant leaves a DEPROVISIONED tombstone, and assigning again revives it', async () => {
    const app = await createApp(api)
    const user = await activeUser()
    const assigned = (await assignUser(api, app.id, user.id)).appUser
    const removed = (await unassignUser(api, app.id, user.id)).appUser
    expect(removed).toMatchObject({ id: assigned.id, status: 'DEPROVISIONED', assignedVia: [] })
    const again = (await assignUser(api, app.id, user.id)).appUser
    expect(again).toMatchObject({ id: assigned.id, status: 'ACTIVE', scope: 'USER' })
    const types = (await eventsFor(api, user.id))
      .map((event: any) => event.type)
      .filter((type: string) => type.startsWith('application.'))
    expect(types).toEqual([
      'application.user_membership.add',
      'application.user_membership.remove',
      'application.user_membership.add',
    ])
  })
})

describe('group assignments', () => {
  test('assigning a group gives every member, and every later member, an app user of scope GROUP', async () => {
    const app = await createApp(api)
    const group = await createGroup(api)
    const before = await activeUser()
    await addMember(api, group.id, before.id)
    const assigned = await assignGroup(api, app.id, group.id)
    expect(assigned).toMatchObject({ app: { id: app.id }, group: { id: group.id }, priority: 0, userErrors: [] })
    expect(await appUser(api, app.id, before.id)).toMatchObject({
      status: 'ACTIVE',
      scope: 'GROUP',
      assignedVia: [{ scope: 'GROUP', group: { id: group.id } }],
    })
    const later = await activeUser()
    await addMember(api, group.id, later.id)
    expect(await appUser(api, app.id, later.id)).toMatchObject({ status: 'ACTIVE', scope: 'GROUP' })
  })

  test('removing a user from the only granting group deprovisions the app user', async () => {
    const app = await createApp(api)
    await enableProvisioning(api, app.id, { deactivate: true })
    const group = await createGroup(api)
    const user = await activeUser()
    await addMember(api, group.id, user.id)
    await assignGroup(api, app.id, group.id)
    const staged = await appUser(api, app.id, user.id)
    await markProvisioned(api, staged.id)
    await removeMember(api, group.id, user.id)
    expect(await appUser(api, app.id, user.id)).toMatchObject({
      status: 'DEPROVISIONED',
      syncState: 'OUT_OF_SYNC',
      externalId: `ext-${staged.id}`,
    })
    expect(await jobsOf(api, staged.id)).toEqual(['CREATE:SUCCEEDED', 'DEACTIVATE:QUEUED'])
  })

  test('a direct assignment survives removal from the granting group', async () => {
    const app = await createApp(api)
    const group = await createGroup(api)
    const user = await activeUser()
    await addMember(api, group.id, user.id)
    await assignGroup(api, app.id, group.id)
    await assignUser(api, app.id, user.id)
    expect((await appUser(api, app.id, user.id)).assignedVia).toEqual([
      { scope: 'USER', group: null },
      { scope: 'GROUP', group: { id: group.id, name: group.name } },
    ])
    await removeMember(api, group.id, user.id)
    expect(await appUser(api, app.id, user.id)).toMatchObject({
      status: 'ACTIVE',
      scope: 'USER',
      assignedVia: [{ scope: 'USER', group: null }],
    })
  })

  test('a user granted the app by two groups keeps it when leaving one of them', async () => {
    const app = await createApp(api)
    const [first, second] = [await createGroup(api), await createGroup(api)]
    const user = await activeUser()
    await addMember(api, first.id, user.id)
    await addMember(api, second.id, user.id)
    await assignGroup(api, app.id, first.id)
    await assignGroup(api, app.id, second.id)
    await removeMember(api, first.id, user.id)
    expect(await appUser(api, app.id, user.id)).toMatchObject({
      status: 'ACTIVE',
      assignedVia: [{ scope: 'GROUP', group: { id: second.id } }],
    })
  })

  test('unassigning a group from an app deprovisions members with no other grant only', async () => {
    const app = await createApp(api)
    const group = await createGroup(api)
    const [onlyGroup, alsoDirect] = [await activeUser(), await activeUser()]
    for (const user of [onlyGroup, alsoDirect]) await addMember(api, group.id, user.id)
    await assignGroup(api, app.id, group.id)
    await assignUser(api, app.id, alsoDirect.id)
    await unassignGroup(api, app.id, group.id)
    expect((await appUser(api, app.id, onlyGroup.id)).status).toBe('DEPROVISIONED')
    expect(await appUser(api, app.id, alsoDirect.id)).toMatchObject({ status: 'ACTIVE', scope: 'USER' })
  })

  test('deleting a group deprovisions the apps it granted', async () => {
    const app = await createApp(api)
    const group = await createGroup(api)
    const user = await activeUser()
    await addMember(api, group.id, user.id)
    await assignGroup(api, app.id, group.id)
    await api.gql(`mutation($id: ID!) { deleteGroup(input: { id: $id }) { group { id } userErrors { code } } }`, {
      id: group.id,
    })
    expect((await appUser(api, app.id, user.id)).status).toBe('DEPROVISIONED')
  })

  test('leaving the granting group before the create job ran cancels it instead of deactivating downstream', async () => {
    const app = await createApp(api)
    await enableProvisioning(api, app.id, { deactivate: true })
    const group = await createGroup(api)
    const user = await activeUser()
    await addMember(api, group.id, user.id)
    await assignGroup(api, app.id, group.id)
    const staged = await appUser(api, app.id, user.id)
    await removeMember(api, group.id, user.id)
    expect(await jobsOf(api, staged.id)).toEqual([])
  })
})

describe('user lifecycle cascades', () => {
  test('deactivating a user deprovisions every app user and queues deactivation where enabled', async () => {
    const [sso, provisioned] = [await createApp(api), await createApp(api)]
    await enableProvisioning(api, provisioned.id, { deactivate: true })
    const group = await createGroup(api)
    const user = await activeUser()
    await addMember(api, group.id, user.id)
    await assignGroup(api, provisioned.id, group.id)
    await assignUser(api, sso.id, user.id)
    const pushed = await appUser(api, provisioned.id, user.id)
    await markProvisioned(api, pushed.id)

    await lifecycle(api, 'deactivateUser', user.id)
    expect(await appUser(api, sso.id, user.id)).toMatchObject({ status: 'DEPROVISIONED', syncState: 'DISABLED' })
    expect(await appUser(api, provisioned.id, user.id)).toMatchObject({
      status: 'DEPROVISIONED',
      syncState: 'OUT_OF_SYNC',
    })
    expect(await jobsOf(api, pushed.id)).toEqual(['CREATE:SUCCEEDED', 'DEACTIVATE:QUEUED'])
    // Group memberships are kept (Okta does not re-evaluate them on deactivation).
    const groups = await api.gql(`query($id: ID!) { user(id: $id) { groups { edges { node { id } } } } }`, {
      id: user.id,
    })
    expect(groups.data.user.groups.edges.map((edge: any) => edge.node.id)).toContain(group.id)
  })

  test('deactivating a user leaves their assignments on INACTIVE apps as they are, direct grant included (domain.md 1.6)', async () => {
    const [inactive, active] = [await createApp(api), await createApp(api)]
    const user = await activeUser()
    const kept = (await assignUser(api, inactive.id, user.id)).appUser
    await assignUser(api, active.id, user.id)
    await setAppStatus(inactive.id, 'deactivateApp')

    await lifecycle(api, 'deactivateUser', user.id)
    expect(await appUser(api, active.id, user.id)).toMatchObject({ status: 'DEPROVISIONED' })
    expect(await appUser(api, inactive.id, user.id)).toMatchObject({
      id: kept.id,
      status: 'ACTIVE',
      scope: 'USER',
      assignedVia: [{ scope: 'USER', group: null }],
    })
  })

  test('losing the granting group never revokes an app user of an INACTIVE app', async () => {
    const app = await createApp(api)
    const group = await createGroup(api)
    const user = await activeUser()
    await addMember(api, group.id, user.id)
    await assignGroup(api, app.id, group.id)
    await setAppStatus(app.id, 'deactivateApp')

    await removeMember(api, group.id, user.id)
    expect(await appUser(api, app.id, user.id)).toMatchObject({ status: 'ACTIVE', scope: 'GROUP' })
  })

  test('deleting a deactivated user deletes the provisioning jobs of their app users', async () => {
    const app = await createApp(api)
    await enableProvisioning(api, app.id, { deactivate: true })
    const user = await activeUser()
    const assigned = (await assignUser(api, app.id, user.id)).appUser
    await markProvisioned(api, assigned.id)
    await lifecycle(api, 'deactivateUser', user.id)
    expect(await jobsOf(api, assigned.id)).toEqual(['CREATE:SUCCEEDED', 'DEACTIVATE:QUEUED'])

    expect((await lifecycle(api, 'deleteUser', user.id)).userErrors).toEqual([])
    expect(await api.database.db.prisma.provisioningJob.count({ where: { userId: user.id } })).toBe(0)
  })

  test('suspending a user keeps app users and queues nothing', async () => {
    const app = await createApp(api)
    await enableProvisioning(api, app.id, { deactivate: true })
    const user = await activeUser()
    const assigned = (await assignUser(api, app.id, user.id)).appUser
    await markProvisioned(api, assigned.id)
    await lifecycle(api, 'suspendUser', user.id)
    expect(await appUser(api, app.id, user.id)).toMatchObject({ status: 'PROVISIONED', syncState: 'SYNCHRONIZED' })
    expect(await jobsOf(api, assigned.id)).toEqual(['CREATE:SUCCEEDED'])
  })

  test('reactivating a user recreates group-based app users but not direct ones', async () => {
    const [groupApp, directApp] = [await createApp(api), await createApp(api)]
    await enableProvisioning(api, groupApp.id, { deactivate: true })
    const group = await createGroup(api)
    const user = await activeUser()
    await addMember(api, group.id, user.id)
    await assignGroup(api, groupApp.id, group.id)
    await assignUser(api, directApp.id, user.id)
    const pushed = await appUser(api, groupApp.id, user.id)
    await markProvisioned(api, pushed.id)
    await lifecycle(api, 'deactivateUser', user.id)
    await lifecycle(api, 'activateUser', user.id)
    // The downstream account exists, so it is re-enabled rather than created again.
    expect(await appUser(api, groupApp.id, user.id)).toMatchObject({ id: pushed.id, status: 'STAGED', scope: 'GROUP' })
    expect(await jobsOf(api, pushed.id)).toEqual(['CREATE:SUCCEEDED', 'DEACTIVATE:QUEUED', 'REACTIVATE:QUEUED'])
    expect((await appUser(api, directApp.id, user.id)).status).toBe('DEPROVISIONED')
  })

  test('a profile change pushes to apps with profile updates enabled', async () => {
    const app = await createApp(api)
    await enableProvisioning(api, app.id, { profile: true })
    const user = await activeUser()
    const assigned = (await assignUser(api, app.id, user.id)).appUser
    await markProvisioned(api, assigned.id)
    await api.gql(
      `mutation($id: ID!) { updateUser(input: { id: $id, profile: { title: "Engineer" } }) { userErrors { code } } }`,
      { id: user.id },
    )
    expect(await appUser(api, app.id, user.id)).toMatchObject({ status: 'PROVISIONED', syncState: 'OUT_OF_SYNC' })
    expect(await jobsOf(api, assigned.id)).toEqual(['CREATE:SUCCEEDED', 'UPDATE:QUEUED'])
  })

  test("a profile change that makes a rule match gives the user the group and the group's app", async () => {
    const app = await createApp(api)
    const group = await createGroup(api)
    await assignGroup(api, app.id, group.id)
    const department = `Dept-${Date.now()}`
    const rule = await api.gql(
      `mutation($input: CreateGroupRuleInput!) { createGroupRule(input: $input) { groupRule { id } userErrors { code message } } }`,
      {
        input: { name: 'by department', expression: `user.department == "${department}"`, assignToGroups: [group.id] },
      },
    )
    await api.gql(`mutation($id: ID!) { activateGroupRule(input: { id: $id }) { groupRule { status } } }`, {
      id: rule.data.createGroupRule.groupRule.id,
    })
    const user = await activeUser()
    expect(await appUser(api, app.id, user.id)).toBeNull()
    await api.gql(
      `mutation($id: ID!, $d: String) { updateUser(input: { id: $id, profile: { department: $d } }) { userErrors { code } } }`,
      { id: user.id, d: department },
    )
    expect(await appUser(api, app.id, user.id)).toMatchObject({
      status: 'ACTIVE',
      scope: 'GROUP',
      assignedVia: [{ group: { id: group.id } }],
    })
    await api.gql(
      `mutation($id: ID!) { updateUser(input: { id: $id, profile: { department: "Elsewhere" } }) { userErrors { code } } }`,
      { id: user.id },
    )
    expect((await appUser(api, app.id, user.id)).status).toBe('DEPROVISIONED')
  })
})

describe('reading assignments', () => {
  test('App.groups and Group.apps list group assignments with their priority, lower first by default order of assignment', async () => {
    const app = await createApp(api)
    const [first, second] = [await createGroup(api), await createGroup(api)]
    expect((await assignGroup(api, app.id, first.id)).priority).toBe(0)
    expect((await assignGroup(api, app.id, second.id, 7)).priority).toBe(7)
    const read = await api.gql(
      `query($app: ID!, $group: ID!) {
        app(id: $app) { groups { totalCount edges { priority node { id name } } } }
        group(id: $group) { apps { totalCount edges { priority node { id label } } } } }`,
      { app: app.id, group: second.id },
    )
    const edges = read.data.app.groups.edges.map((edge: any) => [edge.node.id, edge.priority]).sort()
    expect(edges).toEqual(
      [
        [first.id, 0],
        [second.id, 7],
      ].sort(),
    )
    expect(read.data.app.groups.totalCount).toBe(2)
    expect(read.data.group.apps).toEqual({
      totalCount: 1,
      edges: [{ priority: 7, node: { id: app.id, label: app.label } }],
    })
  })

  test('App.users and User.appUsers list the same assignments, tombstones included', async () => {
    const app = await createApp(api)
    const [kept, removed] = [await activeUser(), await activeUser()]
    await assignUser(api, app.id, kept.id)
    await assignUser(api, app.id, removed.id)
    await unassignUser(api, app.id, removed.id)
    const read = await api.gql(
      `query($app: ID!, $user: ID!) {
        app(id: $app) { users { totalCount edges { node { status user { id } } } } }
        user(id: $user) { appUsers { edges { node { status app { id } } } } } }`,
      { app: app.id, user: removed.id },
    )
    expect(read.data.app.users.totalCount).toBe(2)
    expect(read.data.app.users.edges.map((edge: any) => [edge.node.user.id, edge.node.status])).toEqual([
      [kept.id, 'ACTIVE'],
      [removed.id, 'DEPROVISIONED'],
    ])
    expect(read.data.user.appUsers.edges).toEqual([{ node: { status: 'DEPROVISIONED', app: { id: app.id } } }])
  })
})
