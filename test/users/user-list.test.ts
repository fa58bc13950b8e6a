import { startTestServer, type TestServer } from '../support/harness'
import { createUser, getUser, lifecycle, USER_FIELDS } from '../support/users'

let api: TestServer

/** Every login seeded in beforeAll starts with PREFIX, so filters on it see only those users. */
const PREFIX = `ulist${Date.now().toString(36)}`
/** The 201 users of the page-size cap test have their own prefix (PREFIX is not a prefix of it). */
const CAP_PREFIX = `ucap${Date.now().toString(36)}`
const PASSWORD = 'correct horse battery'
const ALL_STATUSES = [
  'STAGED',
  'PROVISIONED',
  'ACTIVE',
  'RECOVERY',
  'PASSWORD_EXPIRED',
  'LOCKED_OUT',
  'SUSPENDED',
  'DEPROVISIONED',
]

type SeedStatus = 'STAGED' | 'PROVISIONED' | 'ACTIVE' | 'SUSPENDED' | 'DEPROVISIONED'
interface Seed {
  login: string
  department: string
  status: SeedStatus
  costCenter?: string
  /** Filled in once created. */
  id: string
}

const DEPARTMENTS = ['Engineering', 'Sales', 'Engineering', 'Finance', 'Support']
const STATUSES: SeedStatus[] = [
  'ACTIVE',
  'PROVISIONED',
  'STAGED',
  'ACTIVE',
  'SUSPENDED',
  'PROVISIONED',
  'DEPROVISIONED',
]

/** 24 ordinary users plus one with distinctive names (for `q`), all in creation order. */
const seeds: Seed[] = Array.from({ length: 25 }, (_, i) => ({
  login: `${PREFIX}.${String(i).padStart(2, '0')}@example.com`,
  department: DEPARTMENTS[i % DEPARTMENTS.length],
  status: STATUSES[i % STATUSES.length],
  costCenter: i % 4 === 3 ? undefined : i % 3 === 0 ? 'C-7' : 'C-8',
  id: '',
}))
const SPECIAL = seeds[24] // ACTIVE, Support
const SPECIAL_PROFILE = { email: `qv.mailbox.${PREFIX}@elsewhere.example.org`, firstName: 'Quorra', lastName: 'Vexley' }

const ids = (list: Seed[]) => list.map((seed) => seed.id)
const visible = (list: Seed[]) => list.filter((seed) => seed.status !== 'DEPROVISIONED')

async function seedUser(seed: Seed) {
  const profile = {
    login: seed.login,
    email: seed.login,
    department: seed.department,
    ...(seed.costCenter ? { custom: { costCenter: seed.costCenter } } : {}),
    ...(seed === SPECIAL ? SPECIAL_PROFILE : {}),
  }
  const withPassword = seed.status === 'ACTIVE' || seed.status === 'SUSPENDED'
  const { user, userErrors } = await createUser(api, {
    profile,
    ...(withPassword ? { password: PASSWORD } : {}),
    ...(seed.status === 'STAGED' ? { activate: false } : {}),
  })
  expect(userErrors).toEqual([])
  seed.id = user.id
  if (seed.status === 'SUSPENDED') await lifecycle(api, 'suspendUser', user.id)
  if (seed.status === 'DEPROVISIONED') await lifecycle(api, 'deactivateUser', user.id)
}

beforeAll(async () => {
  api = await startTestServer()
  for (const seed of seeds) await seedUser(seed) // one at a time: creation order is the expected list order
  const statuses = await listIds({ status: ALL_STATUSES as never, q: PREFIX })
  expect(statuses).toEqual(ids(seeds))
})
afterAll(() => api.close())

const PAGE = `totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id status } }`

async function page(args: Record<string, unknown>) {
  const response = await api.gql(
    `query($filter: UserFilter, $first: Int, $after: String, $last: Int, $before: String) {
      users(filter: $filter, first: $first, after: $after, last: $last, before: $before) { ${PAGE} } }`,
    args,
  )
  expect(response.errors).toBeUndefined()
  return response.data.users
}

/** The ids of every user matching the filter (at most one full page). */
async function listIds(filter: Record<string, unknown>): Promise<string[]> {
  const users = await page({ filter, first: 200 })
  expect(users.pageInfo.hasNextPage).toBe(false)
  expect(users.totalCount).toBe(users.edges.length)
  return users.edges.map((edge: any) => edge.node.id)
}

const search = (expression: string) => listIds({ search: `profile.login sw "${PREFIX}" and (${expression})` })

describe('paging', () => {
  test.each([1, 4, 7, 200])(
    'first/after with pages of %i visits every matching user exactly once, in creation order, with a constant totalCount',
    async (size) => {
      const expected = ids(visible(seeds))
      const seen: string[] = []
      let after: string | null = null
      for (let pageNumber = 0; ; pageNumber++) {
        expect(pageNumber).toBeLessThan(expected.length + 1) // a paging loop that never ends is a failure, not a hang
        const users: any = await page({ filter: { q: PREFIX }, first: size, after })
        expect(users.totalCount).toBe(expected.length)
        expect(users.edges.length).toBeLessThanOrEqual(size)
        expect(users.pageInfo.hasPreviousPage).toBe(after !== null)
        expect(users.pageInfo.startCursor).toBe(users.edges[0]?.cursor ?? null)
        expect(users.pageInfo.endCursor).toBe(users.edges.at(-1)?.cursor ?? null)
        seen.push(...users.edges.map((edge: any) => edge.node.id))
        if (!users.pageInfo.hasNextPage) break
        expect(users.edges).toHaveLength(size)
        after = users.pageInfo.endCursor
      }
      expect(seen).toEqual(expected)
    },
  )

  test('first above 200 is capped at 200', async () => {
    const capPrefix = CAP_PREFIX
    const logins = Array.from({ length: 201 }, (_, i) => `${capPrefix}.${i}@example.com`)
    for (let i = 0; i < logins.length; i += 20) {
      await Promise.all(
        logins.slice(i, i + 20).map((login) => createUser(api, { activate: false, profile: { login } })),
      )
    }
    const first = await page({ filter: { q: capPrefix }, first: 500 })
    expect(first.edges).toHaveLength(200)
    expect(first.totalCount).toBe(201)
    expect(first.pageInfo.hasNextPage).toBe(true)
    const rest = await page({ filter: { q: capPrefix }, first: 500, after: first.pageInfo.endCursor })
    expect(rest.edges).toHaveLength(1)
    expect(rest.pageInfo.hasNextPage).toBe(false)
    const all = [...first.edges, ...rest.edges].map((edge: any) => edge.node.id)
    expect(new Set(all).size).toBe(201)
  })

  test('without first a page holds the default 20 users', async () => {
    const users = await page({ filter: { q: PREFIX } })
    expect(users.edges.map((edge: any) => edge.node.id)).toEqual(ids(visible(seeds)).slice(0, 20))
    expect(users.pageInfo.hasNextPage).toBe(true)
  })

  test('last/before gives the previous page', async () => {
    const expected = ids(visible(seeds))
    const first = await page({ filter: { q: PREFIX }, first: 5 })
    const second = await page({ filter: { q: PREFIX }, first: 5, after: first.pageInfo.endCursor })
    expect(second.edges.map((edge: any) => edge.node.id)).toEqual(expected.slice(5, 10))

    const previous = await page({ filter: { q: PREFIX }, last: 5, before: second.pageInfo.startCursor })
    expect(previous.edges).toEqual(first.edges)
    expect(previous.totalCount).toBe(expected.length)
    expect(previous.pageInfo).toMatchObject({
      hasPreviousPage: false,
      hasNextPage: true,
      startCursor: first.pageInfo.startCursor,
      endCursor: first.pageInfo.endCursor,
    })

    const middle = await page({ filter: { q: PREFIX }, last: 3, before: second.pageInfo.endCursor })
    expect(middle.edges.map((edge: any) => edge.node.id)).toEqual(expected.slice(6, 9))
    expect(middle.pageInfo.hasPreviousPage).toBe(true)
  })

  test('last without a cursor gives the final users, still oldest first', async () => {
    const users = await page({ filter: { q: PREFIX }, last: 3 })
    expect(users.edges.map((edge: any) => edge.node.id)).toEqual(ids(visible(seeds)).slice(-3))
    expect(users.pageInfo.hasPreviousPage).toBe(true)
  })

  test('a cursor this list did not issue is BAD_USER_INPUT naming the argument', async () => {
    for (const after of ['not-a-cursor', Buffer.from('event:12').toString('base64url')]) {
      const response = await api.gql('query($after: String) { users(after: $after) { totalCount } }', { after })
      expect(response.errors?.map((error) => error.extensions)).toEqual([{ code: 'BAD_USER_INPUT', field: ['after'] }])
      expect(response.data?.users ?? null).toBeNull()
    }
  })
})

describe('filters', () => {
  test('filter.status with several statuses returns users in any of them', async () => {
    const expected = seeds.filter((seed) => seed.status === 'STAGED' || seed.status === 'SUSPENDED')
    expect(await listIds({ q: PREFIX, status: ['STAGED', 'SUSPENDED'] })).toEqual(ids(expected))
    expect(await listIds({ q: PREFIX, status: ['ACTIVE'] })).toEqual(
      ids(seeds.filter((seed) => seed.status === 'ACTIVE')),
    )
  })

  test('search combines a profile attribute and the status with and', async () => {
    const expected = seeds.filter((seed) => seed.department === 'Engineering' && seed.status === 'ACTIVE')
    expect(expected.length).toBeGreaterThan(0)
    expect(await search('profile.department eq "Engineering" and status eq "ACTIVE"')).toEqual(ids(expected))
  })

  test('search supports co and sw on profile attributes', async () => {
    expect(await search('profile.department co "ngineer"')).toEqual(
      ids(seeds.filter((seed) => seed.department === 'Engineering')),
    )
    expect(await search('profile.department sw "Su"')).toEqual(
      ids(seeds.filter((seed) => seed.department === 'Support')),
    )
    expect(await search('profile.email sw "qv.mailbox"')).toEqual([SPECIAL.id])
  })

  test('search supports or and not', async () => {
    const expected = seeds.filter(
      (seed) => (seed.department === 'Sales' || seed.department === 'Finance') && seed.status !== 'PROVISIONED',
    )
    expect(expected.length).toBeGreaterThan(0)
    expect(
      await search(
        '(profile.department eq "Sales" or profile.department eq "Finance") and not (status eq "PROVISIONED")',
      ),
    ).toEqual(ids(expected))
  })

  test('search matches a custom attribute from profile.custom', async () => {
    const expected = seeds.filter((seed) => seed.costCenter === 'C-7')
    expect(expected.length).toBeGreaterThan(0)
    expect(await search('profile.costCenter eq "C-7"')).toEqual(ids(expected))
    expect(await search('profile.costCenter pr')).toEqual(ids(seeds.filter((seed) => seed.costCenter !== undefined)))
  })

  test('search compares lastUpdated with an ISO-8601 date-time', async () => {
    // Touch a few users after seeding, then ask for what changed after a point in the sequence.
    for (const seed of [seeds[3], seeds[11], seeds[17]]) {
      const response = await api.gql(
        `mutation($id: ID!) { updateUser(input: { id: $id, profile: { title: "Touched" } }) { userErrors { code } } }`,
        {
          id: seed.id,
        },
      )
      expect(response.data.updateUser.userErrors).toEqual([])
    }
    const stored = await Promise.all(seeds.map((seed) => getUser(api, seed.id)))
    const times = stored.map((user) => new Date(user.lastUpdated).getTime())
    const pivot = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]
    const expected = seeds.filter((_, i) => times[i] > pivot)
    expect(expected.length).toBeGreaterThan(0)
    expect(expected.length).toBeLessThan(seeds.length)
    expect(expected.map((seed) => seed.id)).toEqual(expect.arrayContaining([seeds[3].id, seeds[11].id, seeds[17].id]))
    expect(await search(`lastUpdated gt "${new Date(pivot).toISOString()}"`)).toEqual(ids(expected))
  })

  test.each([
    ['login', PREFIX.toUpperCase(), 'all'],
    ['email', 'QV.MAIL', 'special'],
    ['firstName', 'quor', 'special'],
    ['lastName', 'VEX', 'special'],
  ])('q is a case-insensitive prefix of the %s', async (_attribute, q, who) => {
    expect(await listIds({ q })).toEqual(who === 'all' ? ids(visible(seeds)) : [SPECIAL.id])
  })

  test('q matches only prefixes, not text inside a value', async () => {
    expect(await listIds({ q: 'orra' })).toEqual([])
    expect(await listIds({ q: 'xley' })).toEqual([])
    expect(await listIds({ q: PREFIX.slice(1) })).toEqual([])
  })
})

describe('deactivated users', () => {
  const deprovisioned = () => seeds.filter((seed) => seed.status === 'DEPROVISIONED')

  test('DEPROVISIONED users are left out of a list without status or search', async () => {
    expect(deprovisioned().length).toBeGreaterThan(0)
    const listed = await listIds({ q: PREFIX })
    expect(listed).toEqual(ids(visible(seeds)))
    for (const seed of deprovisioned()) expect(listed).not.toContain(seed.id)

    const unfiltered = await api.gql('{ users { totalCount } }')
    const everyone = await api.gql(
      'query($status: [UserStatus!]) { users(filter: { status: $status }) { totalCount } }',
      {
        status: ALL_STATUSES,
      },
    )
    const gone = await api.gql('{ users(filter: { status: [DEPROVISIONED] }) { totalCount } }')
    expect(unfiltered.data.users.totalCount).toBe(everyone.data.users.totalCount - gone.data.users.totalCount)
  })

  test('DEPROVISIONED users are returned when filter.status asks for them', async () => {
    expect(await listIds({ q: PREFIX, status: ['DEPROVISIONED'] })).toEqual(ids(deprovisioned()))
    const withActive = seeds.filter((seed) => seed.status === 'DEPROVISIONED' || seed.status === 'ACTIVE')
    expect(await listIds({ q: PREFIX, status: ['ACTIVE', 'DEPROVISIONED'] })).toEqual(ids(withActive))
  })

  test('DEPROVISIONED users are returned by a search that names them', async () => {
    expect(await search('status eq "DEPROVISIONED"')).toEqual(ids(deprovisioned()))
    const one = deprovisioned()[0]
    expect(await listIds({ search: `profile.login eq "${one.login}"` })).toEqual([one.id])
  })
})

describe('looking users up', () => {
  test('user(login:), user(id:) and node(id:) return the same user', async () => {
    const seed = seeds[5]
    const byId = (await api.gql(`query($id: ID!) { user(id: $id) { ${USER_FIELDS} } }`, { id: seed.id })).data.user
    const byLogin = (
      await api.gql(`query($login: String!) { user(login: $login) { ${USER_FIELDS} } }`, { login: seed.login })
    ).data.user
    const node = (
      await api.gql(`query($id: ID!) { node(id: $id) { __typename id ... on User { ${USER_FIELDS} } } }`, {
        id: seed.id,
      })
    ).data.node
    expect(byId).toMatchObject({
      id: seed.id,
      status: seed.status,
      profile: { login: seed.login, department: seed.department },
    })
    expect(byLogin).toEqual(byId)
    expect(node).toEqual({ __typename: 'User', ...byId })
  })

  test('an unknown id or login gives null', async () => {
    const response = await api.gql(`{ byId: user(id: "usr_00000000000000000000000000") { id }
      byLogin: user(login: "${PREFIX}.nobody@example.com") { id } node(id: "usr_00000000000000000000000000") { id } }`)
    expect(response.errors).toBeUndefined()
    expect(response.data).toEqual({ byId: null, byLogin: null, node: null })
  })

  test('nodes(ids:) keeps the order given and gives null for an unknown id', async () => {
    const [a, b, c] = [seeds[9], seeds[2], seeds[6]]
    const response = await api.gql(
      `query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on User { profile { login } } } }`,
      {
        ids: [a.id, 'usr_00000000000000000000000000', b.id, 'not-an-id-at-all', c.id],
      },
    )
    expect(response.errors).toBeUndefined()
    expect(response.data.nodes).toEqual([
      { __typename: 'User', id: a.id, profile: { login: a.login } },
      null,
      { __typename: 'User', id: b.id, profile: { login: b.login } },
      null,
      { __typename: 'User', id: c.id, profile: { login: c.login } },
    ])
  })
})

describe('search edge cases', () => {
  const all = () => seeds
  test('ne and not include users who lack the attribute (SCIM semantics)', async () => {
    const withoutCostCenter = all().filter((seed) => seed.costCenter !== 'C-7')
    expect((await search('profile.costCenter ne "C-7"')).sort()).toEqual(ids(withoutCostCenter).sort())
    expect((await search('not (profile.costCenter eq "C-7")')).sort()).toEqual(ids(withoutCostCenter).sort())
    const notSales = all().filter((seed) => seed.department !== 'Sales')
    expect((await search('profile.department ne "Sales"')).sort()).toEqual(ids(notSales).sort())
    expect(await search('profile.title ne "Boss"')).toHaveLength(seeds.length) // nobody has a title
  })

  test('LIKE wildcards in q and search match literally', async () => {
    expect(await listIds({ q: `${PREFIX}%` })).toEqual([])
    expect(await listIds({ q: `${PREFIX}._0` })).toEqual([])
    expect(await search('profile.login co "%"')).toEqual([])
  })

  test('a negative page size is refused with BAD_USER_INPUT naming first', async () => {
    const response = await api.gql(`{ users(first: -1) { totalCount } }`)
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: ['first'] })
  })
})
