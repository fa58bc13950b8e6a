import { clockPasses } from '../support/clock'
import { startTestServer, type TestServer } from '../support/harness'
import { createUser, eventsFor, lifecycle } from '../support/users'

let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

const PASSWORD = 'correct horse battery'

// Rules run over the whole population, so every test matches on values of its own (a tag).
let counter = 0
const tag = () => `t${Date.now().toString(36)}${++counter}`

const RULE_FIELDS = 'id name status expression assignToGroups { id } excludedUsers { id }'
const ERRORS = 'userErrors { code message field }'

async function expectNoErrors(response: { errors?: unknown[] }) {
  if (response.errors) throw new Error(JSON.stringify(response.errors))
}

async function user(
  profile: Record<string, unknown> = {},
  options: { activate?: boolean; password?: string } = { password: PASSWORD },
) {
  const created = await createUser(api, { ...options, profile })
  if (created.userErrors.length) throw new Error(JSON.stringify(created.userErrors))
  return created.user.id as string
}

async function createGroup(name: string, description?: string) {
  const response = await api.gql(
    `mutation($input: CreateGroupInput!) { createGroup(input: $input) { group { id name type description } ${ERRORS} } }`,
    {
      input: { name, description },
    },
  )
  await expectNoErrors(response)
  return response.data.createGroup
}

async function group(name = `group ${tag()}`) {
  const created = await createGroup(name)
  if (created.userErrors.length) throw new Error(JSON.stringify(created.userErrors))
  return created.group.id as string
}

async function createRule(input: {
  name?: string
  expression: string
  assignToGroups: string[]
  excludedUsers?: string[]
}) {
  const response = await api.gql(
    `mutation($input: CreateGroupRuleInput!) { createGroupRule(input: $input) { groupRule { ${RULE_FIELDS} } ${ERRORS} } }`,
    {
      input: { name: `rule ${tag()}`, ...input },
    },
  )
  await expectNoErrors(response)
  return response.data.createGroupRule
}

async function rule(expression: string, assignToGroups: string[], excludedUsers?: string[]) {
  const created = await createRule({ expression, assignToGroups, excludedUsers })
  if (created.userErrors.length) throw new Error(JSON.stringify(created.userErrors))
  return created.groupRule.id as string
}

/** activateGroupRule / deactivateGroupRule. */
async function ruleLifecycle(mutation: 'activateGroupRule' | 'deactivateGroupRule', id: string) {
  const response = await api.gql(
    `mutation($input: GroupRuleIdInput!) { ${mutation}(input: $input) { groupRule { ${RULE_FIELDS} } ${ERRORS} } }`,
    { input: { id } },
  )
  await expectNoErrors(response)
  return response.data[mutation]
}

async function activeRule(expression: string, assignToGroups: string[], excludedUsers?: string[]) {
  const id = await rule(expression, assignToGroups, excludedUsers)
  const activated = await ruleLifecycle('activateGroupRule', id)
  if (activated.userErrors.length) throw new Error(JSON.stringify(activated.userErrors))
  return id
}

async function updateRule(input: { id: string; name: string; expression: string; excludedUsers?: string[] }) {
  const response = await api.gql(
    `mutation($input: UpdateGroupRuleInput!) { updateGroupRule(input: $input) { groupRule { ${RULE_FIELDS} } ${ERRORS} } }`,
    { input },
  )
  await expectNoErrors(response)
  return response.data.updateGroupRule
}

async function deleteRule(id: string, removeUsers: boolean) {
  const response = await api.gql(
    `mutation($input: DeleteGroupRuleInput!) { deleteGroupRule(input: $input) { groupRule { id } ${ERRORS} } }`,
    {
      input: { id, removeUsers },
    },
  )
  await expectNoErrors(response)
  return response.data.deleteGroupRule
}

async function readRule(id: string) {
  const response = await api.gql(`query($id: ID!) { groupRule(id: $id) { ${RULE_FIELDS} } }`, { id })
  await expectNoErrors(response)
  return response.data.groupRule
}

async function ruleCount(): Promise<number> {
  const response = await api.gql(`{ groupRules { totalCount } }`)
  await expectNoErrors(response)
  return response.data.groupRules.totalCount
}

/** groupMember mutations: addGroupMember / removeGroupMember. */
async function membership(mutation: 'addGroupMember' | 'removeGroupMember', groupId: string, userId: string) {
  const response = await api.gql(
    `mutation($input: GroupMemberInput!) { ${mutation}(input: $input) { group { id } ${ERRORS} } }`,
    { input: { groupId, userId } },
  )
  await expectNoErrors(response)
  return response.data[mutation]
}

async function addMember(groupId: string, userId: string) {
  const added = await membership('addGroupMember', groupId, userId)
  expect(added.userErrors).toEqual([])
}

/** Every member id of a group, oldest first. */
async function members(groupId: string): Promise<string[]> {
  const response = await api.gql(
    `query($id: ID!) { group(id: $id) { members(first: 200) { totalCount edges { node { id } } } } }`,
    { id: groupId },
  )
  await expectNoErrors(response)
  const { totalCount, edges } = response.data.group.members
  expect(edges).toHaveLength(totalCount)
  return edges.map((edge: any) => edge.node.id)
}

async function groupsOf(userId: string): Promise<string[]> {
  const response = await api.gql(`query($id: ID!) { user(id: $id) { groups(first: 200) { edges { node { id } } } } }`, {
    id: userId,
  })
  await expectNoErrors(response)
  return response.data.user.groups.edges.map((edge: any) => edge.node.id)
}

async function updateProfile(id: string, profile: Record<string, unknown>) {
  const response = await api.gql(
    `mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { id profile { department title } } ${ERRORS} } }`,
    {
      input: { id, profile },
    },
  )
  await expectNoErrors(response)
  expect(response.data.updateUser.userErrors).toEqual([])
  return response.data.updateUser.user
}

/** Membership events of a user for one group, as `add`/`remove` with the rule that caused them. */
async function membershipEvents(userId: string, groupId: string) {
  return (await eventsFor(api, userId))
    .filter((event: any) => event.type.startsWith('group.user_membership.') && event.data?.groupId === groupId)
    .map((event: any) => ({ type: event.type, ruleId: event.data.ruleId ?? null }))
}

async function everyone(): Promise<{ id: string; type: string; name: string; description: string | null }> {
  const response = await api.gql(
    `{ groups(filter: { q: "Everyone" }) { edges { node { id type name description } } } }`,
  )
  await expectNoErrors(response)
  const found = response.data.groups.edges.map((edge: any) => edge.node).filter((node: any) => node.name === 'Everyone')
  expect(found).toHaveLength(1)
  return found[0]
}

const sorted = (ids: string[]) => [...ids].sort()

describe('activating a rule', () => {
  test('a rule is created INACTIVE and adds nobody until it is activated', async () => {
    const department = `Engineering ${tag()}`
    const engineer = await user({ department })
    const target = await group()
    const created = await createRule({
      name: 'Engineers',
      expression: `user.department == "${department}"`,
      assignToGroups: [target],
    })
    expect(created.userErrors).toEqual([])
    expect(created.groupRule).toEqual({
      id: expect.any(String),
      name: 'Engineers',
      status: 'INACTIVE',
      expression: `user.department == "${department}"`,
      assignToGroups: [{ id: target }],
      excludedUsers: [],
    })
    expect(await members(target)).toEqual([])
    expect(await membershipEvents(engineer, target)).toEqual([])
  })

  test('activating adds every matching user to every target group, leaves the others out and records group.user_membership.add', async () => {
    const department = `Engineering ${tag()}`
    const [first, second] = [await user({ department }), await user({ department })]
    const outsider = await user({ department: `Sales ${tag()}` })
    const [groupA, groupB] = [await group(), await group()]
    const ruleId = await rule(`user.department == "${department}"`, [groupA, groupB])

    const activated = await ruleLifecycle('activateGroupRule', ruleId)
    expect(activated.userErrors).toEqual([])
    expect(activated.groupRule.status).toBe('ACTIVE')
    expect((await readRule(ruleId)).status).toBe('ACTIVE')
    expect(sorted(await members(groupA))).toEqual(sorted([first, second]))
    expect(sorted(await members(groupB))).toEqual(sorted([first, second]))
    expect(await groupsOf(outsider)).not.toContain(groupA)
    expect(await membershipEvents(first, groupA)).toEqual([{ type: 'group.user_membership.add', ruleId }])
    expect(await membershipEvents(second, groupB)).toEqual([{ type: 'group.user_membership.add', ruleId }])
    expect(await membershipEvents(outsider, groupA)).toEqual([])
  })

  test('excluded users are never added: not at activation, not at a later profile change', async () => {
    const department = `Engineering ${tag()}`
    const included = await user({ department })
    const excluded = await user({ department })
    const laterExcluded = await user({ department: `Sales ${tag()}` })
    const target = await group()
    const ruleId = await rule(`user.department == "${department}"`, [target], [excluded, laterExcluded])
    expect(sorted((await readRule(ruleId)).excludedUsers.map((excludedUser: any) => excludedUser.id))).toEqual(
      sorted([excluded, laterExcluded]),
    )

    await ruleLifecycle('activateGroupRule', ruleId)
    expect(await members(target)).toEqual([included])
    await updateProfile(laterExcluded, { department })
    await updateProfile(excluded, { title: 'Principal' })
    expect(await members(target)).toEqual([included])
    expect(await membershipEvents(excluded, target)).toEqual([])
  })

  test('after activation a new matching user joins the group when created', async () => {
    const department = `Engineering ${tag()}`
    const target = await group()
    const ruleId = await activeRule(`user.department == "${department}"`, [target])
    const hire = await user({ department })
    const other = await user({ department: `Sales ${tag()}` })
    expect(await members(target)).toEqual([hire])
    expect(await groupsOf(other)).not.toContain(target)
    expect(await membershipEvents(hire, target)).toEqual([{ type: 'group.user_membership.add', ruleId }])
  })

  test('a user whose department stops matching leaves the group, and joins again when it matches again', async () => {
    const department = `Engineering ${tag()}`
    const target = await group()
    const ruleId = await activeRule(`user.department == "${department}"`, [target])
    const mover = await user({ department })
    const stayer = await user({ department })

    await updateProfile(mover, { department: `Sales ${tag()}` })
    expect(await members(target)).toEqual([stayer])
    await updateProfile(mover, { department })
    expect(sorted(await members(target))).toEqual(sorted([mover, stayer]))
    expect(await membershipEvents(mover, target)).toEqual([
      { type: 'group.user_membership.add', ruleId },
      { type: 'group.user_membership.remove', ruleId },
      { type: 'group.user_membership.add', ruleId },
    ])
  })

  test('a profile change that still matches does not touch the membership', async () => {
    const department = `Engineering ${tag()}`
    const target = await group()
    const ruleId = await activeRule(`user.department == "${department}"`, [target])
    const engineer = await user({ department })
    await updateProfile(engineer, { title: 'Staff engineer' })
    expect(await members(target)).toEqual([engineer])
    expect(await membershipEvents(engineer, target)).toEqual([{ type: 'group.user_membership.add', ruleId }])
  })

  test('DEPROVISIONED users are not added by activation, and join when they are activated again', async () => {
    const department = `Engineering ${tag()}`
    const active = await user({ department })
    const leaver = await user({ department })
    expect((await lifecycle(api, 'deactivateUser', leaver)).user.status).toBe('DEPROVISIONED')
    const target = await group()
    await activeRule(`user.department == "${department}"`, [target])
    expect(await members(target)).toEqual([active])

    expect((await lifecycle(api, 'activateUser', leaver)).user.status).toBe('PROVISIONED')
    expect(sorted(await members(target))).toEqual(sorted([active, leaver]))
  })

  test('a deactivated user keeps the memberships a rule gave them, even when another rule is activated later', async () => {
    const department = `Engineering ${tag()}`
    const target = await group()
    await activeRule(`user.department == "${department}"`, [target])
    const leaver = await user({ department })
    await lifecycle(api, 'deactivateUser', leaver)
    expect(await members(target)).toEqual([leaver])

    await activeRule(`user.department == "Nobody ${tag()}"`, [await group()])
    expect(await members(target)).toEqual([leaver])
  })
})

describe('rule expressions', () => {
  test('AND, OR, &&, ||, ! and parentheses combine as in Okta EL (AND/&& bind tighter than OR/||)', async () => {
    const t = tag()
    const [dept, other, lead, staff] = [`D ${t}`, `Other ${t}`, `Lead ${t}`, `Staff ${t}`]
    const deptLead = await user({ department: dept, title: lead })
    const deptStaff = await user({ department: dept, title: staff })
    const deptOnly = await user({ department: dept })
    const otherStaff = await user({ department: other, title: staff })
    const otherLead = await user({ department: other, title: lead })

    const expressions = {
      and: `user.department == "${dept}" AND user.title == "${lead}"`,
      ampersands: `user.department == "${dept}" && user.title == "${lead}"`,
      or: `user.title == "${lead}" OR user.title == "${staff}"`,
      pipes: `user.title == "${lead}" || user.title == "${staff}"`,
      parentheses: `user.department == "${dept}" AND (user.title == "${lead}" OR user.title == "${staff}")`,
      precedence: `user.title == "${staff}" || user.department == "${dept}" && user.title == "${lead}"`,
      precedenceWords: `user.title == "${staff}" OR user.department == "${dept}" AND user.title == "${lead}"`,
      not: `user.department == "${dept}" && !(user.title == "${lead}")`,
      notEqual: `user.department == "${other}" AND user.title != "${lead}"`,
    }
    const groups: Record<string, string> = {}
    for (const [key, expression] of Object.entries(expressions)) {
      groups[key] = await group()
      await activeRule(expression, [groups[key]])
    }

    expect(await members(groups.and)).toEqual([deptLead])
    expect(await members(groups.ampersands)).toEqual([deptLead])
    expect(sorted(await members(groups.or))).toEqual(sorted([deptLead, deptStaff, otherStaff, otherLead]))
    expect(sorted(await members(groups.pipes))).toEqual(sorted([deptLead, deptStaff, otherStaff, otherLead]))
    expect(sorted(await members(groups.parentheses))).toEqual(sorted([deptLead, deptStaff]))
    expect(sorted(await members(groups.precedence))).toEqual(sorted([deptLead, deptStaff, otherStaff]))
    expect(sorted(await members(groups.precedenceWords))).toEqual(sorted([deptLead, deptStaff, otherStaff]))
    expect(sorted(await members(groups.not))).toEqual(sorted([deptStaff, deptOnly]))
    expect(await members(groups.notEqual)).toEqual([otherStaff])
  })

  test('String.stringContains, String.startsWith and String.endsWith read profile strings', async () => {
    const t = tag()
    const contoso = await user({ login: `ada.${t}@contoso-${t}.example`, email: `ada.${t}@contoso-${t}.example` })
    const prefixed = await user({
      login: `eng-${t}.grace@fabrikam.example`,
      email: `grace.${t}@fabrikam.example`,
      department: `R&D ${t}`,
    })
    const neither = await user({ login: `linus.${t}@fabrikam.example`, email: `linus.${t}@fabrikam.example` })
    const [contains, starts, ends] = [await group(), await group(), await group()]
    await activeRule(`String.stringContains(user.email, "@contoso-${t}.")`, [contains])
    await activeRule(`String.startsWith(user.login, "eng-${t}.")`, [starts])
    await activeRule(`String.endsWith(user.department, "D ${t}")`, [ends])

    expect(await members(contains)).toEqual([contoso])
    expect(await members(starts)).toEqual([prefixed])
    expect(await members(ends)).toEqual([prefixed])
    expect(await groupsOf(neither)).not.toContain(contains)

    await updateProfile(neither, { email: `linus.${t}@contoso-${t}.example` })
    expect(sorted(await members(contains))).toEqual(sorted([contoso, neither]))
  })

  test('an expression reads only own profile attributes: inherited properties such as user.constructor are missing (null)', async () => {
    const department = `Inherited ${tag()}`
    const target = await group()
    const member = await user({ department, custom: { badge: 'b-1' } })
    await activeRule(`user.constructor != null || user.toString != null || user.badge == "b-1"`, [target])
    expect(await members(target)).toEqual([member])
    const other = await user({ department })
    expect(await members(target)).toEqual([member])
    expect(await groupsOf(other)).not.toContain(target)
  })

  test('isMemberOfGroup: adding a user to the named group makes the rule add them; removing them takes them out again', async () => {
    const source = await group()
    const target = await group()
    const ruleId = await activeRule(`isMemberOfGroup("${source}")`, [target])
    const person = await user()
    expect(await members(target)).toEqual([])

    await addMember(source, person)
    expect(await members(target)).toEqual([person])
    expect(await membershipEvents(person, target)).toEqual([{ type: 'group.user_membership.add', ruleId }])

    expect((await membership('removeGroupMember', source, person)).userErrors).toEqual([])
    expect(await members(target)).toEqual([])
  })

  test('rules chain: a rule reading the group another rule fills adds the same users', async () => {
    const department = `Engineering ${tag()}`
    const first = await group()
    const second = await group()
    // The reading rule is created first, so it is evaluated before the rule it depends on.
    await activeRule(`isMemberOfGroup("${first}") AND user.department == "${department}"`, [second])
    await activeRule(`user.department == "${department}"`, [first])
    const engineer = await user({ department })
    expect(await members(first)).toEqual([engineer])
    expect(await members(second)).toEqual([engineer])

    await updateProfile(engineer, { department: `Sales ${tag()}` })
    expect(await members(first)).toEqual([])
    expect(await members(second)).toEqual([])
  })
})

describe('refused rules', () => {
  test.each([
    ['user.department = "x"', 16],
    ['user.a +', 7],
  ])(
    'an expression that does not parse (%s) is VALIDATION on expression naming the position, and nothing is created',
    async (expression, position) => {
      const before = await ruleCount()
      const created = await createRule({ expression, assignToGroups: [await group()] })
      expect(created.groupRule).toBeNull()
      expect(created.userErrors).toHaveLength(1)
      expect(created.userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['expression'] })
      expect(created.userErrors[0].message).toContain(`position ${position}`)
      expect(await ruleCount()).toBe(before)
    },
  )

  test.each(['eval("1")', 'Convert.toInt(user.employeeNumber) == "1"', 'String.toUpperCase(user.department, "x")'])(
    'a function other than the String and group-membership functions (%s) is refused and nothing is created',
    async (expression) => {
      const before = await ruleCount()
      const created = await createRule({ expression, assignToGroups: [await group()] })
      expect(created.groupRule).toBeNull()
      expect(created.userErrors).toEqual([
        { code: 'VALIDATION', message: expect.stringContaining('function'), field: ['expression'] },
      ])
      expect(await ruleCount()).toBe(before)
    },
  )

  test('an expression that is not a boolean (a bare attribute) is refused', async () => {
    const before = await ruleCount()
    const created = await createRule({ expression: 'user.department', assignToGroups: [await group()] })
    expect(created.userErrors).toEqual([{ code: 'VALIDATION', message: expect.any(String), field: ['expression'] }])
    expect(await ruleCount()).toBe(before)
  })

  test('a rule can only target existing OKTA_GROUP groups: an unknown group or Everyone is VALIDATION on assignToGroups', async () => {
    const before = await ruleCount()
    const unknown = await createRule({
      expression: 'user.department == "x"',
      assignToGroups: ['grp_0000000000unknownunknown00'],
    })
    expect(unknown.userErrors).toEqual([{ code: 'VALIDATION', message: expect.any(String), field: ['assignToGroups'] }])
    const builtIn = await createRule({ expression: 'user.department == "x"', assignToGroups: [(await everyone()).id] })
    expect(builtIn.userErrors).toEqual([{ code: 'VALIDATION', message: expect.any(String), field: ['assignToGroups'] }])
    expect(await ruleCount()).toBe(before)
  })
})

describe('rule lifecycle', () => {
  test('an INACTIVE rule can be updated; an ACTIVE one cannot (INVALID_TRANSITION) and stays as it was', async () => {
    const target = await group()
    const excluded = await user()
    const ruleId = await rule(`user.department == "A ${tag()}"`, [target])
    const newExpression = `user.department == "B ${tag()}"`
    const updated = await updateRule({
      id: ruleId,
      name: 'Renamed',
      expression: newExpression,
      excludedUsers: [excluded],
    })
    expect(updated.userErrors).toEqual([])
    expect(updated.groupRule).toEqual({
      id: ruleId,
      name: 'Renamed',
      status: 'INACTIVE',
      expression: newExpression,
      assignToGroups: [{ id: target }],
      excludedUsers: [{ id: excluded }],
    })

    await ruleLifecycle('activateGroupRule', ruleId)
    const before = await readRule(ruleId)
    const refused = await updateRule({ id: ruleId, name: 'Again', expression: `user.department == "C ${tag()}"` })
    expect(refused.groupRule).toBeNull()
    expect(refused.userErrors).toHaveLength(1)
    expect(refused.userErrors[0].code).toBe('INVALID_TRANSITION')
    expect(refused.userErrors[0].message).toContain('ACTIVE')
    expect(await readRule(ruleId)).toEqual(before)
  })

  test('an update with an expression that does not parse is VALIDATION and leaves the rule unchanged', async () => {
    const ruleId = await rule(`user.department == "A ${tag()}"`, [await group()])
    const before = await readRule(ruleId)
    const refused = await updateRule({ id: ruleId, name: 'Broken', expression: 'user.department = "x"' })
    expect(refused.userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['expression'] })
    expect(await readRule(ruleId)).toEqual(before)
  })

  test('activating an ACTIVE rule and deactivating an INACTIVE one are INVALID_TRANSITION', async () => {
    const ruleId = await rule(`user.department == "A ${tag()}"`, [await group()])
    const deactivated = await ruleLifecycle('deactivateGroupRule', ruleId)
    expect(deactivated.groupRule).toBeNull()
    expect(deactivated.userErrors[0].code).toBe('INVALID_TRANSITION')
    expect((await readRule(ruleId)).status).toBe('INACTIVE')

    expect((await ruleLifecycle('activateGroupRule', ruleId)).groupRule.status).toBe('ACTIVE')
    const again = await ruleLifecycle('activateGroupRule', ruleId)
    expect(again.groupRule).toBeNull()
    expect(again.userErrors).toHaveLength(1)
    expect(again.userErrors[0].code).toBe('INVALID_TRANSITION')
    expect(again.userErrors[0].message).toContain('ACTIVE')
    expect((await readRule(ruleId)).status).toBe('ACTIVE')
  })

  test('deactivating a rule keeps the members it added, and the inactive rule adds nobody new', async () => {
    const department = `Engineering ${tag()}`
    const engineer = await user({ department })
    const target = await group()
    const ruleId = await activeRule(`user.department == "${department}"`, [target])
    const deactivated = await ruleLifecycle('deactivateGroupRule', ruleId)
    expect(deactivated.userErrors).toEqual([])
    expect(deactivated.groupRule.status).toBe('INACTIVE')
    expect(await members(target)).toEqual([engineer])

    const hire = await user({ department })
    expect(await members(target)).toEqual([engineer])
    expect(await groupsOf(hire)).not.toContain(target)
  })

  test('deleting a rule with removeUsers: true removes the members it added but not direct members', async () => {
    const department = `Engineering ${tag()}`
    const direct = await user({ department })
    const target = await group()
    await addMember(target, direct)
    const ruleId = await activeRule(`user.department == "${department}"`, [target])
    const added = await user({ department })
    expect(sorted(await members(target))).toEqual(sorted([direct, added]))

    const deleted = await deleteRule(ruleId, true)
    expect(deleted.userErrors).toEqual([])
    expect(await readRule(ruleId)).toBeNull()
    expect(await members(target)).toEqual([direct])
    expect(await membershipEvents(added, target)).toEqual([
      { type: 'group.user_membership.add', ruleId },
      { type: 'group.user_membership.remove', ruleId },
    ])
  })

  test('deleting a rule with removeUsers: true re-runs the other rules: a user who left G leaves the group a rule fills from G', async () => {
    const department = `Engineering ${tag()}`
    const [first, second] = [await group(), await group()]
    const ruleId = await activeRule(`user.department == "${department}"`, [first])
    await activeRule(`isMemberOfGroup("${first}")`, [second])
    const engineer = await user({ department })
    expect(await groupsOf(engineer)).toEqual(expect.arrayContaining([first, second]))

    expect((await deleteRule(ruleId, true)).userErrors).toEqual([])
    expect(await groupsOf(engineer)).not.toContain(first)
    expect(await groupsOf(engineer)).not.toContain(second)
  })

  test('deleting a rule with removeUsers: false keeps its members, and a later profile change no longer removes them', async () => {
    const department = `Engineering ${tag()}`
    const target = await group()
    const ruleId = await activeRule(`user.department == "${department}"`, [target])
    const engineer = await user({ department })
    const before = await ruleCount()

    const deleted = await deleteRule(ruleId, false)
    expect(deleted.userErrors).toEqual([])
    expect(await readRule(ruleId)).toBeNull()
    expect(await ruleCount()).toBe(before - 1)
    expect(await members(target)).toEqual([engineer])

    await updateProfile(engineer, { department: `Sales ${tag()}` })
    expect(await members(target)).toEqual([engineer])
  })

  test('deleting a group named by isMemberOfGroup makes the rule INVALID, and an INVALID rule cannot be activated', async () => {
    const source = await group()
    const ruleId = await activeRule(`isMemberOfGroup("${source}")`, [await group()])
    const deleted = await api.gql(
      `mutation($input: DeleteGroupInput!) { deleteGroup(input: $input) { group { id } ${ERRORS} } }`,
      { input: { id: source } },
    )
    expect(deleted.data.deleteGroup.userErrors).toEqual([])
    expect((await readRule(ruleId)).status).toBe('INVALID')
    expect((await eventsFor(api, ruleId)).map((event: any) => event.type)).toContain(
      'group.user_membership.rule.invalidate',
    )

    const activated = await ruleLifecycle('activateGroupRule', ruleId)
    expect(activated.userErrors[0].code).toBe('INVALID_TRANSITION')
    expect((await readRule(ruleId)).status).toBe('INVALID')
  })

  test('deleting a target group makes the rule INVALID and drops the group from assignToGroups', async () => {
    const [kept, removed] = [await group(), await group()]
    const ruleId = await rule(`user.department == "A ${tag()}"`, [kept, removed])
    await api.gql(`mutation($input: DeleteGroupInput!) { deleteGroup(input: $input) { group { id } } }`, {
      input: { id: removed },
    })
    const after = await readRule(ruleId)
    expect(after.status).toBe('INVALID')
    expect(after.assignToGroups).toEqual([{ id: kept }])
  })

  test('removing a rule-managed member with removeGroupMember excludes them from the rule, so a later profile change does not add them back', async () => {
    const department = `Engineering ${tag()}`
    const target = await group()
    const ruleId = await activeRule(`user.department == "${department}"`, [target])
    const [removed, kept] = [await user({ department }), await user({ department })]

    expect((await membership('removeGroupMember', target, removed)).userErrors).toEqual([])
    expect(await members(target)).toEqual([kept])
    expect((await readRule(ruleId)).excludedUsers).toEqual([{ id: removed }])
    expect((await eventsFor(api, ruleId)).map((event: any) => event.type)).toContain(
      'group.user_membership.rule.add_exclusion',
    )

    await updateProfile(removed, { title: 'Still an engineer' })
    await updateProfile(removed, { department: `Sales ${tag()}` })
    await updateProfile(removed, { department })
    expect(await members(target)).toEqual([kept])
  })
})

describe('groups', () => {
  test('every new user, staged or active, is a member of the BUILT_IN group Everyone', async () => {
    const group = await everyone()
    expect(group.type).toBe('BUILT_IN')
    const count = async () =>
      (await api.gql(`query($id: ID!) { group(id: $id) { members { totalCount } } }`, { id: group.id })).data.group
        .members.totalCount
    const before = await count()
    const staged = await user({}, { activate: false })
    const active = await user()
    expect(await groupsOf(staged)).toContain(group.id)
    expect(await groupsOf(active)).toContain(group.id)
    expect(await count()).toBe(before + 2)
  })

  test('Everyone cannot be changed: membership, profile and deletion are NOT_MODIFIABLE and change nothing', async () => {
    const group = await everyone()
    const member = await user()
    const outsiderMembers = (
      await api.gql(`query($id: ID!) { group(id: $id) { members { totalCount } } }`, { id: group.id })
    ).data.group.members.totalCount

    const removed = await membership('removeGroupMember', group.id, member)
    expect(removed).toEqual({
      group: null,
      userErrors: [{ code: 'NOT_MODIFIABLE', message: expect.any(String), field: null }],
    })
    const added = await membership('addGroupMember', group.id, member)
    expect(added.userErrors[0].code).toBe('NOT_MODIFIABLE')
    const renamed = await api.gql(
      `mutation($input: UpdateGroupInput!) { updateGroup(input: $input) { group { id } ${ERRORS} } }`,
      {
        input: { id: group.id, name: 'Everybody', description: 'changed' },
      },
    )
    expect(renamed.data.updateGroup).toEqual({
      group: null,
      userErrors: [{ code: 'NOT_MODIFIABLE', message: expect.any(String), field: null }],
    })
    const deleted = await api.gql(
      `mutation($input: DeleteGroupInput!) { deleteGroup(input: $input) { group { id } ${ERRORS} } }`,
      { input: { id: group.id } },
    )
    expect(deleted.data.deleteGroup).toEqual({
      group: null,
      userErrors: [{ code: 'NOT_MODIFIABLE', message: expect.any(String), field: null }],
    })

    expect(await everyone()).toEqual(group)
    expect(await groupsOf(member)).toContain(group.id)
    expect(
      (await api.gql(`query($id: ID!) { group(id: $id) { members { totalCount } } }`, { id: group.id })).data.group
        .members.totalCount,
    ).toBe(outsiderMembers)
  })

  test('lastMembershipUpdated moves with every added or removed member (Everyone too) and not with a refused change', async () => {
    const stamps = async (id: string) => {
      const response = await api.gql(`query($id: ID!) { group(id: $id) { lastUpdated lastMembershipUpdated } }`, { id })
      await expectNoErrors(response)
      return response.data.group as { lastUpdated: string; lastMembershipUpdated: string | null }
    }
    const target = await group()
    const created = await stamps(target)
    expect(created.lastMembershipUpdated).toBeNull()

    const everyoneId = (await everyone()).id
    await clockPasses(created.lastUpdated, (await stamps(everyoneId)).lastMembershipUpdated)
    const member = await user() // joins Everyone
    const everyoneBefore = await stamps(everyoneId)
    expect(Date.parse(everyoneBefore.lastMembershipUpdated!)).toBeGreaterThan(Date.parse(created.lastUpdated))
    await clockPasses(everyoneBefore.lastMembershipUpdated)
    await addMember(target, member)
    const added = await stamps(target)
    expect(Date.parse(added.lastMembershipUpdated!)).toBeGreaterThan(Date.parse(everyoneBefore.lastMembershipUpdated!))
    expect(added.lastUpdated).toBe(created.lastUpdated)

    await clockPasses(added.lastMembershipUpdated)
    await user()
    expect(Date.parse((await stamps(everyoneId)).lastMembershipUpdated!)).toBeGreaterThan(
      Date.parse(added.lastMembershipUpdated!),
    )
    expect((await membership('addGroupMember', target, 'usr_unknown')).userErrors[0].code).toBe('NOT_FOUND')
    expect(await stamps(target)).toEqual(added)

    await clockPasses(added.lastMembershipUpdated)
    await membership('removeGroupMember', target, member)
    expect(Date.parse((await stamps(target)).lastMembershipUpdated!)).toBeGreaterThan(
      Date.parse(added.lastMembershipUpdated!),
    )
  })

  test('addGroupMember and removeGroupMember answer the group as changed: its payload matches a read afterwards', async () => {
    const target = await group()
    const member = await user()
    for (const mutation of ['addGroupMember', 'removeGroupMember'] as const) {
      const response = await api.gql(
        `mutation($input: GroupMemberInput!) { ${mutation}(input: $input) { group { lastUpdated lastMembershipUpdated } ${ERRORS} } }`,
        { input: { groupId: target, userId: member } },
      )
      await expectNoErrors(response)
      const stored = await api.gql(`query($id: ID!) { group(id: $id) { lastUpdated lastMembershipUpdated } }`, {
        id: target,
      })
      expect(response.data[mutation].group.lastMembershipUpdated).not.toBeNull()
      expect(response.data[mutation].group).toEqual(stored.data.group)
    }
  })

  test('group names are unique: creating or renaming to a taken name is CONFLICT and changes nothing', async () => {
    const name = `Design ${tag()}`
    const original = await createGroup(name, 'the first one')
    expect(original.userErrors).toEqual([])
    expect(original.group).toMatchObject({ name, type: 'OKTA_GROUP', description: 'the first one' })

    const duplicate = await createGroup(name)
    expect(duplicate).toEqual({
      group: null,
      userErrors: [{ code: 'CONFLICT', message: expect.any(String), field: ['name'] }],
    })
    expect((await createGroup('Everyone')).userErrors[0].code).toBe('CONFLICT')
    const matching = await api.gql(`query($q: String!) { groups(filter: { q: $q }) { totalCount } }`, { q: name })
    expect(matching.data.groups.totalCount).toBe(1)

    const other = await group()
    const renamed = await api.gql(
      `mutation($input: UpdateGroupInput!) { updateGroup(input: $input) { group { id name } ${ERRORS} } }`,
      { input: { id: other, name } },
    )
    expect(renamed.data.updateGroup.userErrors).toEqual([
      { code: 'CONFLICT', message: expect.any(String), field: ['name'] },
    ])
    const otherNow = await api.gql(`query($id: ID!) { group(id: $id) { name } }`, { id: other })
    expect(otherNow.data.group.name).not.toBe(name)
  })

  test('Group.members pages forward with first/after, oldest first, and totalCount counts every member', async () => {
    const target = await group()
    const people: string[] = []
    for (let i = 0; i < 5; i++) {
      people.push(await user())
      await addMember(target, people[i])
    }
    const seen: string[] = []
    let after: string | null = null
    const pages: { size: number; hasNextPage: boolean; totalCount: number }[] = []
    do {
      const response: any = await api.gql(
        `query($id: ID!, $after: String) { group(id: $id) { members(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } } } } }`,
        { id: target, after },
      )
      await expectNoErrors(response)
      const connection = response.data.group.members
      pages.push({
        size: connection.edges.length,
        hasNextPage: connection.pageInfo.hasNextPage,
        totalCount: connection.totalCount,
      })
      seen.push(...connection.edges.map((edge: any) => edge.node.id))
      expect(connection.pageInfo.endCursor).toBe(connection.edges.at(-1)?.cursor ?? null)
      after = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null
    } while (after)

    expect(pages).toEqual([
      { size: 2, hasNextPage: true, totalCount: 5 },
      { size: 2, hasNextPage: true, totalCount: 5 },
      { size: 1, hasNextPage: false, totalCount: 5 },
    ])
    expect(seen).toEqual(sorted(people))
  })

  test('User.groups pages forward with first/after and counts Everyone too', async () => {
    const person = await user()
    const joined = [await group(), await group(), await group()]
    for (const groupId of joined) await addMember(groupId, person)
    const first = await api.gql(
      `query($id: ID!) { user(id: $id) { groups(first: 3) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } } }`,
      { id: person },
    )
    await expectNoErrors(first)
    const page1 = first.data.user.groups
    expect(page1.totalCount).toBe(4)
    expect(page1.edges).toHaveLength(3)
    expect(page1.pageInfo.hasNextPage).toBe(true)
    const second = await api.gql(
      `query($id: ID!, $after: String) { user(id: $id) { groups(first: 3, after: $after) { totalCount pageInfo { hasNextPage } edges { node { id } } } } }`,
      {
        id: person,
        after: page1.pageInfo.endCursor,
      },
    )
    const page2 = second.data.user.groups
    expect(page2.totalCount).toBe(4)
    expect(page2.edges).toHaveLength(1)
    expect(page2.pageInfo.hasNextPage).toBe(false)
    const all = [...page1.edges, ...page2.edges].map((edge: any) => edge.node.id)
    expect(sorted(all)).toEqual(sorted([...joined, (await everyone()).id]))
  })
})

describe('rules that are not active', () => {
  test('members a deactivated rule added stay when their profile changes while another rule is active', async () => {
    const title = `Lead ${tag()}`
    const [target, other] = [await group(), await group()]
    const deactivated = await activeRule(`user.title == "${title}"`, [target])
    const member = await user({ title })
    expect(await members(target)).toEqual([member])
    await ruleLifecycle('deactivateGroupRule', deactivated)
    await activeRule(`user.title == "${title} other"`, [other])
    await updateProfile(member, { title }) // the user still matches the deactivated rule
    await updateProfile(member, { department: 'Anything' })
    expect(await members(target)).toEqual([member])
  })

  test('a rule needs at least one target group', async () => {
    const before = await ruleCount()
    const created = await createRule({ expression: 'user.department == "x"', assignToGroups: [] })
    expect(created.userErrors[0]).toMatchObject({ code: 'VALIDATION', field: ['assignToGroups'] })
    expect(await ruleCount()).toBe(before)
  })

  test('removing a member that two rules put in a group excludes them from both, so they stay out', async () => {
    const department = `Dept ${tag()}`
    const target = await group()
    const first = await activeRule(`user.department == "${department}"`, [target])
    const second = await activeRule(`String.startsWith(user.department, "${department}")`, [target])
    const member = await user({ department })
    expect(await members(target)).toEqual([member])
    await membership('removeGroupMember', target, member)
    expect(await members(target)).toEqual([])
    for (const id of [first, second]) expect((await readRule(id)).excludedUsers.map((u: any) => u.id)).toEqual([member])
  })
})
