import { startTestServer, type TestServer } from '../support/harness'
import { startFaultProxy } from '../support/fault-proxy'
import { startScimServer, type ScimServer } from '../support/scim-server'
import { APP_USER_FIELDS, appUser, provisionedApp } from '../support/provisioning'
import { createUser, uniqueLogin } from '../support/users'

// importAppUsers end to end: a real SCIM server (scimmy) holds the downstream accounts; the import
// reads them page by page and links, creates or reports each one per the app's import rules.

let api: TestServer
const downstreams: { close(): Promise<void> }[] = []
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(async () => {
  await Promise.all(downstreams.map((server) => server.close()))
  await api.close()
})

interface Account {
  userName: string
  email?: string
  givenName?: string
  familyName?: string
}

/** A SCIM server holding these accounts; returns it with the downstream id of each account, by userName. */
async function downstreamWith(accounts: Account[]) {
  const scim = await startScimServer()
  downstreams.push(scim)
  const ids = new Map<string, string>()
  for (const account of accounts) {
    const response = await fetch(`${scim.baseUrl}/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${scim.token}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: account.userName,
        ...(account.email && { emails: [{ value: account.email, type: 'work', primary: true }] }),
        ...(account.givenName && { name: { givenName: account.givenName, familyName: account.familyName } }),
        active: true,
      }),
    })
    if (response.status !== 201) throw new Error(`seeding failed: ${response.status} ${await response.text()}`)
    ids.set(account.userName, ((await response.json()) as { id: string }).id)
  }
  return { scim, ids }
}

type Rules = Partial<{
  exactMatchCriteria: 'USERNAME' | 'EMAIL'
  allowPartialMatch: boolean
  autoConfirmExactMatch: boolean
  autoConfirmPartialMatch: boolean
  autoConfirmNewUsers: boolean
  autoActivateNewUsers: boolean
}>

async function setInbound(appId: string, status: 'ENABLED' | 'DISABLED', rules: Rules = {}) {
  const response = await api.gql(
    `mutation($input: UpdateAppFeatureInput!) { updateAppFeature(input: $input) { userErrors { code message } } }`,
    {
      input: {
        appId,
        name: 'INBOUND_PROVISIONING',
        status,
        capabilities: {
          importRules: {
            userCreateAndMatch: {
              exactMatchCriteria: 'USERNAME',
              allowPartialMatch: false,
              autoConfirmExactMatch: true,
              autoConfirmPartialMatch: false,
              autoConfirmNewUsers: false,
              autoActivateNewUsers: false,
              ...rules,
            },
          },
        },
      },
    },
  )
  expect(response.data.updateAppFeature.userErrors).toEqual([])
}

/** An app importing from `downstream` with these rules (INBOUND_PROVISIONING enabled). */
async function importingApp(downstream: { baseUrl: string; token: string }, rules: Rules = {}) {
  const app = await provisionedApp(api, downstream)
  await setInbound(app.id, 'ENABLED', rules)
  return app
}

const IMPORT_FIELDS = `dryRun created matched unmatched ambiguous unchanged errors resultsTruncated
  results { action matchType reason userId downstream { id userName email } }
  userErrors { code message field }`

async function importAppUsers(appId: string, dryRun = false, token?: string) {
  const response = await api.gql(
    `mutation($input: ImportAppUsersInput!) { importAppUsers(input: $input) { ${IMPORT_FIELDS} } }`,
    { input: { appId, dryRun } },
    token,
  )
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  return response.data.importAppUsers
}

const IMPORT_EVENTS = [
  'system.import.start',
  'system.import.user.create',
  'system.import.user.match',
  'system.import.progress',
  'system.import.complete',
]

async function importEvents(appId: string, types = IMPORT_EVENTS) {
  const response = await api.gql(
    `query($filter: EventFilter) { events(filter: $filter, first: 200) { edges { node { type data outcome { result reason } } } } }`,
    { filter: { targetId: appId, types } },
  )
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  return response.data.events.edges.map((edge: any) => edge.node)
}

async function completion(appId: string) {
  const response = await api.gql(
    `query($filter: EventFilter) { events(filter: $filter, last: 1) { edges { node { type data outcome { result reason } } } } }`,
    { filter: { targetId: appId, types: ['system.import.complete'] } },
  )
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  return response.data.events.edges[0]?.node
}

const user = async (profile: Record<string, unknown>) =>
  (await createUser(api, { activate: true, password: 'correct horse battery', profile })).user

const LINKED = { status: 'ACTIVE', syncState: 'DISABLED' }

describe('matching by USERNAME', () => {
  test('an account whose userName is a login (any case) is linked to that user, and nothing is pushed back', async () => {
    const login = uniqueLogin('ada')
    const ada = await user({ login, email: login })
    const { scim, ids } = await downstreamWith([{ userName: login.toUpperCase(), email: 'elsewhere@example.com' }])
    const app = await importingApp(scim)

    const report = await importAppUsers(app.id)

    expect(report).toMatchObject({ created: 0, matched: 1, unmatched: 0, ambiguous: 0, errors: 0, userErrors: [] })
    expect(report.results).toEqual([expect.objectContaining({ action: 'MATCH', matchType: 'EXACT', userId: ada.id })])
    const linked = await appUser(api, app.id, ada.id, `${APP_USER_FIELDS} scope`)
    expect(linked).toMatchObject({ ...LINKED, externalId: ids.get(login.toUpperCase()), scope: 'USER' })
    const jobs = await api.database.db.prisma.provisioningJob.count({ where: { appId: app.id } })
    expect(jobs).toBe(0)
    expect(scim.requestCount('POST')).toBe(1) // the seeding only
    expect((await importEvents(app.id)).map((event: any) => event.type)).toEqual([
      'system.import.start',
      'system.import.user.match',
      'system.import.progress',
      'system.import.complete',
    ])
  })

  test('an exact match that is not auto-confirmed is reported unmatched and left unlinked', async () => {
    const login = uniqueLogin('bob')
    const bob = await user({ login, email: login })
    const { scim } = await downstreamWith([{ userName: login }])
    const app = await importingApp(scim, { autoConfirmExactMatch: false })

    const report = await importAppUsers(app.id)

    expect(report).toMatchObject({ matched: 0, unmatched: 1 })
    expect(report.results[0]).toMatchObject({ action: 'UNMATCHED', matchType: 'EXACT', userId: bob.id })
    expect(await appUser(api, app.id, bob.id)).toBeNull()
  })
})

describe('matching by EMAIL', () => {
  test("the account's primary email matches our email (any case); its userName plays no part", async () => {
    const carol = await user({ login: uniqueLogin('carol'), email: 'Carol.Shaw@Example.com' })
    const dave = await user({ login: uniqueLogin('dave') })
    const { scim, ids } = await downstreamWith([
      { userName: 'cshaw', email: 'carol.shaw@example.COM' },
      { userName: dave.profile.login, email: 'not-dave@example.com' },
    ])
    const app = await importingApp(scim, { exactMatchCriteria: 'EMAIL' })

    const report = await importAppUsers(app.id)

    expect(report).toMatchObject({ matched: 1, unmatched: 1 })
    expect(await appUser(api, app.id, carol.id)).toMatchObject({ ...LINKED, externalId: ids.get('cshaw') })
    expect(await appUser(api, app.id, dave.id)).toBeNull()
  })

  test('two users with the matching email make the account ambiguous: reported, never guessed', async () => {
    const shared = `${uniqueLogin('shared')}`
    const first = await user({ login: uniqueLogin('twin'), email: shared })
    const second = await user({ login: uniqueLogin('twin'), email: shared })
    const { scim } = await downstreamWith([{ userName: 'twin', email: shared }])
    const app = await importingApp(scim, { exactMatchCriteria: 'EMAIL', autoConfirmNewUsers: true })

    const report = await importAppUsers(app.id)

    expect(report).toMatchObject({ ambiguous: 1, matched: 0, created: 0 })
    expect(report.results[0]).toMatchObject({ action: 'AMBIGUOUS', userId: null })
    expect(await appUser(api, app.id, first.id)).toBeNull()
    expect(await appUser(api, app.id, second.id)).toBeNull()
  })
})

describe('partial matches (first and last name)', () => {
  const named = async () => {
    const surname = `Hopper${Math.random().toString(36).slice(2, 8)}`
    const grace = await user({ login: uniqueLogin('grace'), firstName: 'Grace', lastName: surname })
    const { scim, ids } = await downstreamWith([{ userName: 'ghopper', givenName: 'GRACE', familyName: surname }])
    return { grace, scim, id: ids.get('ghopper')! }
  }

  test('count only when allowPartialMatch, and link when autoConfirmPartialMatch', async () => {
    const { grace, scim, id } = await named()
    const app = await importingApp(scim, { allowPartialMatch: true, autoConfirmPartialMatch: true })

    const report = await importAppUsers(app.id)

    expect(report.results[0]).toMatchObject({ action: 'MATCH', matchType: 'PARTIAL', userId: grace.id })
    expect(await appUser(api, app.id, grace.id)).toMatchObject({ ...LINKED, externalId: id })
    const [match] = (await importEvents(app.id)).filter((event: any) => event.type === 'system.import.user.match')
    expect(match.data).toMatchObject({ matchType: 'PARTIAL', externalId: id, userId: grace.id })
  })

  test('an unconfirmed partial match is unmatched; without allowPartialMatch the name is not even a match', async () => {
    const { grace, scim } = await named()
    const unconfirmed = await importingApp(scim, { allowPartialMatch: true })
    expect((await importAppUsers(unconfirmed.id)).results[0]).toMatchObject({
      action: 'UNMATCHED',
      matchType: 'PARTIAL',
      userId: grace.id,
    })
    const off = await importingApp(scim, { autoConfirmPartialMatch: true })
    expect((await importAppUsers(off.id)).results[0]).toMatchObject({ action: 'UNMATCHED', matchType: null })
    expect(await appUser(api, unconfirmed.id, grace.id)).toBeNull()
  })
})

describe('new users', () => {
  const newcomer = () => {
    const login = uniqueLogin('new')
    return { userName: login, email: login, givenName: 'Nova', familyName: 'Newcomer' }
  }

  test('with autoConfirmNewUsers an unmatched account becomes a STAGED user, in Everyone, linked', async () => {
    const account = newcomer()
    const { scim, ids } = await downstreamWith([account])
    const app = await importingApp(scim, { autoConfirmNewUsers: true })

    const report = await importAppUsers(app.id)

    expect(report).toMatchObject({ created: 1, matched: 0 })
    const userId = report.results[0].userId
    const response = await api.gql(
      `query($id: ID!) { user(id: $id) { status profile { login email firstName lastName } groups { edges { node { name } } } } }`,
      { id: userId },
    )
    expect(response.data.user).toMatchObject({
      status: 'STAGED',
      profile: { login: account.userName, email: account.email, firstName: 'Nova', lastName: 'Newcomer' },
    })
    expect(response.data.user.groups.edges.map((edge: any) => edge.node.name)).toEqual(['Everyone'])
    expect(await appUser(api, app.id, userId)).toMatchObject({ ...LINKED, externalId: ids.get(account.userName) })
    const created = (await importEvents(app.id)).find((event: any) => event.type === 'system.import.user.create')
    expect(created.data).toMatchObject({ userId, externalId: ids.get(account.userName) })
  })

  test('with autoActivateNewUsers the new user is activated as createUser activates one without a password', async () => {
    const { scim } = await downstreamWith([newcomer()])
    const app = await importingApp(scim, { autoConfirmNewUsers: true, autoActivateNewUsers: true })

    const report = await importAppUsers(app.id)

    const response = await api.gql(`query($id: ID!) { user(id: $id) { status activated } }`, {
      id: report.results[0].userId,
    })
    expect(response.data.user.status).toBe('PROVISIONED')
  })

  test('without autoConfirmNewUsers an unmatched account creates nothing', async () => {
    const account = newcomer()
    const { scim } = await downstreamWith([account])
    const app = await importingApp(scim)

    const report = await importAppUsers(app.id)

    expect(report).toMatchObject({ created: 0, unmatched: 1 })
    expect(await api.database.db.prisma.user.count({ where: { login: account.userName } })).toBe(0)
  })

  test('a user created by an import is granted the apps of the groups it joins, and the imported link wins', async () => {
    const account = newcomer()
    const { scim, ids } = await downstreamWith([account])
    const app = await importingApp(scim, { autoConfirmNewUsers: true })
    const assigned = await api.gql(
      `mutation($input: AssignGroupToAppInput!) { assignGroupToApp(input: $input) { userErrors { code message } } }`,
      { input: { appId: app.id, groupId: 'grp_everyone' } },
    )
    expect(assigned.errors).toBeUndefined()

    const report = await importAppUsers(app.id)

    const userId = report.results[0].userId
    expect(await appUser(api, app.id, userId)).toMatchObject({ ...LINKED, externalId: ids.get(account.userName) })
    const queued = await api.database.db.prisma.provisioningJob.count({ where: { userId, state: 'QUEUED' } })
    expect(queued).toBe(0)
  })
})

test('re-running an import changes nothing that is linked', async () => {
  const login = uniqueLogin('again')
  const existing = await user({ login, email: login })
  const fresh = uniqueLogin('fresh')
  const { scim } = await downstreamWith([{ userName: login }, { userName: fresh, email: fresh }])
  const app = await importingApp(scim, { autoConfirmNewUsers: true })
  const first = await importAppUsers(app.id)
  expect(first).toMatchObject({ created: 1, matched: 1 })
  const linkedBefore = await appUser(api, app.id, existing.id, `${APP_USER_FIELDS} lastUpdated`)
  const usersBefore = await api.database.db.prisma.user.count()

  const second = await importAppUsers(app.id)

  expect(second).toMatchObject({ created: 0, matched: 0, unchanged: 2, errors: 0 })
  expect(await appUser(api, app.id, existing.id, `${APP_USER_FIELDS} lastUpdated`)).toEqual(linkedBefore)
  expect(await api.database.db.prisma.user.count()).toBe(usersBefore)
  const linkEvents = (await importEvents(app.id)).filter((event: any) => /user\.(create|match)$/.test(event.type))
  expect(linkEvents).toHaveLength(2)
})

test('a dry run reports what would happen, writes no row and no event, and sends only GETs', async () => {
  const login = uniqueLogin('dry')
  const matched = await user({ login, email: login })
  const fresh = uniqueLogin('dry-new')
  const { scim } = await downstreamWith([{ userName: login }, { userName: fresh, email: fresh }])
  const app = await importingApp(scim, { autoConfirmNewUsers: true })
  const db = api.database.db.prisma
  const before = {
    users: await db.user.count(),
    appUsers: await db.appUser.count(),
    events: await db.lifecycleEvent.count(),
  }
  const posts = scim.requestCount('POST')

  const report = await importAppUsers(app.id, true)

  expect(report).toMatchObject({ dryRun: true, created: 1, matched: 1, userErrors: [] })
  expect(report.results).toEqual([
    expect.objectContaining({
      action: 'MATCH',
      userId: matched.id,
      downstream: expect.objectContaining({ userName: login }),
    }),
    expect.objectContaining({
      action: 'CREATE',
      userId: null,
      downstream: expect.objectContaining({ userName: fresh }),
    }),
  ])
  expect({
    users: await db.user.count(),
    appUsers: await db.appUser.count(),
    events: await db.lifecycleEvent.count(),
  }).toEqual(before)
  expect(scim.requestCount()).toBe(posts + scim.requestCount('GET'))
  expect(scim.requestCount('GET')).toBe(1)

  // What it reported is what the real run does.
  expect(await importAppUsers(app.id)).toMatchObject({ created: 1, matched: 1 })
})

describe('refusals', () => {
  test('INBOUND_PROVISIONING disabled: FEATURE_NOT_SUPPORTED, nothing read', async () => {
    const { scim } = await downstreamWith([{ userName: uniqueLogin() }])
    const app = await provisionedApp(api, scim)
    await setInbound(app.id, 'DISABLED')
    const report = await importAppUsers(app.id)
    expect(report.userErrors).toEqual([expect.objectContaining({ code: 'FEATURE_NOT_SUPPORTED' })])
    expect(scim.requestCount('GET')).toBe(0)
  })

  test('the provisioning connection disabled: PROVISIONING_NOT_ENABLED', async () => {
    const { scim } = await downstreamWith([])
    const app = await importingApp(scim)
    await api.gql(
      `mutation($input: UpdateProvisioningConnectionInput!) { updateProvisioningConnection(input: $input) { userErrors { code } } }`,
      { input: { appId: app.id, status: 'DISABLED' } },
    )
    expect((await importAppUsers(app.id)).userErrors).toEqual([
      expect.objectContaining({ code: 'PROVISIONING_NOT_ENABLED' }),
    ])
  })

  test('an unknown app is NOT_FOUND; a token without apps:manage is FORBIDDEN', async () => {
    expect((await importAppUsers('app_nope')).userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })])
    const reader = await api.tokenWith('apps:read')
    const response = await api.gql(
      `mutation { importAppUsers(input: { appId: "app_nope" }) { created userErrors { code } } }`,
      {},
      reader,
    )
    expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN')
  })
})

describe('a downstream failure mid-import', () => {
  test('a 5xx on the second page: the first page stays committed, the payload and the completion say why', async () => {
    const accounts = Array.from({ length: 201 }, () => {
      const login = uniqueLogin('bulk')
      return { userName: login, email: login }
    })
    const { scim } = await downstreamWith(accounts)
    const proxy = await startFaultProxy(scim.baseUrl)
    downstreams.push(proxy)
    proxy.inject({ kind: 'status', status: 503 }, { method: 'GET', path: /startIndex=201/ })
    const app = await importingApp({ baseUrl: proxy.baseUrl, token: scim.token }, { autoConfirmNewUsers: true })

    const report = await importAppUsers(app.id)

    expect(report).toMatchObject({ created: 200, userErrors: [expect.objectContaining({ code: 'DOWNSTREAM_FAILED' })] })
    expect(report.userErrors[0].message).toMatch(/HTTP 503/)
    expect(await api.database.db.prisma.appUser.count({ where: { appId: app.id, status: 'ACTIVE' } })).toBe(200)
    const complete = await completion(app.id)
    expect(complete).toMatchObject({
      outcome: { result: 'FAILURE' },
      data: { failure: 'DOWNSTREAM_FAILED', counts: expect.objectContaining({ created: 200 }) },
    })

    // The rest comes with the next run; the first page is not imported twice.
    expect(await importAppUsers(app.id)).toMatchObject({ created: 1, unchanged: 200, userErrors: [] })
  })

  test('a wrong token (401) fails the first page: nothing imported, a typed error, not INTERNAL', async () => {
    const { scim } = await downstreamWith([{ userName: uniqueLogin() }])
    const app = await importingApp({ baseUrl: scim.baseUrl, token: 'wrong' }, { autoConfirmNewUsers: true })
    const report = await importAppUsers(app.id)
    expect(report).toMatchObject({ created: 0, userErrors: [expect.objectContaining({ code: 'DOWNSTREAM_FAILED' })] })
    expect(report.userErrors[0].message).toMatch(/HTTP 401/)
  })
})

test('two imports of one app at once link each account once', async () => {
  const accounts = Array.from({ length: 30 }, () => {
    const login = uniqueLogin('race')
    return { userName: login, email: login }
  })
  const { scim } = await downstreamWith(accounts)
  const app = await importingApp(scim, { autoConfirmNewUsers: true })

  const [one, two] = await Promise.all([importAppUsers(app.id), importAppUsers(app.id)])

  expect([one.userErrors, two.userErrors]).toEqual([[], []])
  expect(one.created + two.created).toBe(30)
  expect(one.unchanged + two.unchanged).toBe(30)
  const linked = await api.database.db.prisma.appUser.findMany({
    where: { appId: app.id },
    select: { externalId: true },
  })
  expect(new Set(linked.map((row) => row.externalId)).size).toBe(30)
  expect(linked).toHaveLength(30)
})

test('a long import can be watched while it runs: each committed page shows as a progress event', async () => {
  const accounts = Array.from({ length: 201 }, () => {
    const login = uniqueLogin('watched')
    return { userName: login, email: login }
  })
  const { scim } = await downstreamWith(accounts)
  const proxy = await startFaultProxy(scim.baseUrl)
  proxy.inject({ kind: 'hang' }, { method: 'GET', path: /startIndex=201/ })
  const app = await importingApp({ baseUrl: proxy.baseUrl, token: scim.token }, { autoConfirmNewUsers: true })

  const running = importAppUsers(app.id)

  // The second page hangs: the first is committed and visible, the import not complete.
  let seen: any[] = []
  const give = Date.now() + 20_000
  while (!seen.some((event) => event.type === 'system.import.progress') && Date.now() < give) {
    seen = await importEvents(app.id, ['system.import.start', 'system.import.progress', 'system.import.complete'])
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  expect(seen.map((event) => event.type)).toContain('system.import.start')
  expect(seen.find((event) => event.type === 'system.import.progress').data).toMatchObject({
    page: 1,
    processed: 200,
    totalResults: 201,
    counts: expect.objectContaining({ created: 200 }),
  })
  expect(seen.map((event) => event.type)).not.toContain('system.import.complete')

  await proxy.close() // the hung page fails: the import ends, its first page kept
  expect((await running).userErrors).toEqual([expect.objectContaining({ code: 'DOWNSTREAM_FAILED' })])
  expect(await completion(app.id)).toMatchObject({ outcome: { result: 'FAILURE' } })
})
