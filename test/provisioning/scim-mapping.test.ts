import {
  CORE_USER_SCHEMA,
  diffResources,
  ENTERPRISE_USER_SCHEMA,
  sameUserName,
  SCIM_USER_MAPPING,
  toScimUser,
  type ScimSource,
} from '../../src/provisioning/scim-mapping'

const FULL: ScimSource = {
  id: '00u1full',
  login: 'ada.lovelace@example.com',
  email: 'ada@example.com',
  firstName: 'Ada',
  lastName: 'Lovelace',
  displayName: 'Ada Lovelace',
  title: 'Analyst',
  department: 'Engineering',
  employeeNumber: 'E-1815',
  managerId: '00u1boss',
  active: true,
}

const MINIMAL: ScimSource = {
  id: '00u1min',
  login: 'min@example.com',
  email: 'min@example.com',
  firstName: null,
  lastName: null,
  displayName: null,
  title: null,
  department: null,
  employeeNumber: null,
  managerId: null,
  active: true,
}

const hasNull = (value: unknown): boolean =>
  value === null || (typeof value === 'object' && Object.values(value as object).some(hasNull))

describe('our user as a SCIM User resource', () => {
  test('a full profile fills the core schema and the enterprise extension', () => {
    expect(toScimUser(FULL)).toEqual({
      schemas: [CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
      userName: 'ada.lovelace@example.com',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      displayName: 'Ada Lovelace',
      emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
      title: 'Analyst',
      active: true,
      externalId: '00u1full',
      [ENTERPRISE_USER_SCHEMA]: { department: 'Engineering', employeeNumber: 'E-1815', manager: { value: '00u1boss' } },
    })
  })

  test('a minimal profile sends no nulls and no enterprise schema', () => {
    const resource = toScimUser(MINIMAL)
    expect(resource).toEqual({
      schemas: [CORE_USER_SCHEMA],
      userName: 'min@example.com',
      emails: [{ value: 'min@example.com', type: 'work', primary: true }],
      active: true,
      externalId: '00u1min',
    })
    expect(hasNull(resource)).toBe(false)
  })

  test('a single enterprise attribute brings the enterprise schema with it', () => {
    const resource = toScimUser({ ...MINIMAL, employeeNumber: '42' })
    expect(resource.schemas).toEqual([CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA])
    expect(resource[ENTERPRISE_USER_SCHEMA]).toEqual({ employeeNumber: '42' })
  })

  test('a deactivation sends active false on the same account', () => {
    expect(toScimUser({ ...FULL, active: false })).toMatchObject({ active: false, externalId: '00u1full' })
  })

  test('the table names each mapped attribute once, by its SCIM path', () => {
    const attributes = SCIM_USER_MAPPING.map((row) => row.attribute)
    expect(new Set(attributes).size).toBe(attributes.length)
    expect(attributes).toEqual([
      'userName',
      'name.givenName',
      'name.familyName',
      'displayName',
      'emails[type eq "work"].value',
      'title',
      'active',
      'externalId',
      `${ENTERPRISE_USER_SCHEMA}:department`,
      `${ENTERPRISE_USER_SCHEMA}:employeeNumber`,
      `${ENTERPRISE_USER_SCHEMA}:manager.value`,
    ])
  })
})

describe('the changes between our resource and the downstream account', () => {
  /** What a downstream typically returns: our attributes plus its own id, meta and extra emails. */
  const theirsFor = (user: ScimSource) => ({
    ...toScimUser(user),
    id: 'b7c1',
    meta: { resourceType: 'User', version: 'W/"3"' },
    emails: [
      { value: 'home@example.org', type: 'home' },
      { value: user.email, type: 'work', primary: true },
    ],
  })

  test('an account that matches has no changes', () => {
    expect(diffResources(toScimUser(FULL), theirsFor(FULL))).toEqual([])
  })

  test('exactly the changed attributes are reported, from theirs to ours', () => {
    const ours = toScimUser({ ...FULL, lastName: 'King', title: null, department: 'Research', email: 'ak@example.com' })
    expect(diffResources(ours, theirsFor(FULL))).toEqual([
      { attribute: 'name.familyName', from: 'Lovelace', to: 'King' },
      { attribute: 'emails[type eq "work"].value', from: 'ada@example.com', to: 'ak@example.com' },
      { attribute: 'title', from: 'Analyst', to: null },
      { attribute: `${ENTERPRISE_USER_SCHEMA}:department`, from: 'Engineering', to: 'Research' },
    ])
  })

  test('a linked account that lacks our attributes shows each of them as added', () => {
    const theirs = { schemas: [CORE_USER_SCHEMA], id: 'b7c1', userName: FULL.login, active: true }
    expect(diffResources(toScimUser(MINIMAL), { ...theirs, userName: MINIMAL.login })).toEqual([
      { attribute: 'emails[type eq "work"].value', from: null, to: 'min@example.com' },
      { attribute: 'externalId', from: null, to: '00u1min' },
    ])
  })

  test('a downstream without a work email is compared on its primary email', () => {
    const theirs = { ...toScimUser(FULL), emails: [{ value: 'ada@example.com', primary: true }] }
    expect(diffResources(toScimUser(FULL), theirs)).toEqual([])
  })

  test('a userName that differs only in case is not a change', () => {
    const theirs = { ...toScimUser(FULL), userName: 'Ada.Lovelace@Example.COM' }
    expect(diffResources(toScimUser(FULL), theirs)).toEqual([])
  })

  test('a deactivated account is a change of active', () => {
    const theirs = { ...toScimUser(FULL), active: false }
    expect(diffResources(toScimUser(FULL), theirs)).toEqual([{ attribute: 'active', from: false, to: true }])
  })
})

describe('userName comparison', () => {
  test('is case-insensitive', () => {
    expect(sameUserName('Ada.Lovelace@Example.com', 'ada.lovelace@example.COM')).toBe(true)
  })

  test('still tells different names apart', () => {
    expect(sameUserName('ada@example.com', 'ada2@example.com')).toBe(false)
  })
})
