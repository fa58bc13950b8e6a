import { startFaultProxy, type FaultProxy } from '../support/fault-proxy'
import { startTestServer, type TestServer } from '../support/harness'
import {
  activeUser,
  appUser,
  appUserWhen,
  assign,
  pause,
  provisionedApp,
  setCapabilities,
  unassign,
} from '../support/provisioning'
import { startScimServer, type ScimServer, type StoredScimUser } from '../support/scim-server'

// previewProvisioning end to end: app users provisioned by the worker to a real SCIM 2.0 server (scimmy),
// accounts then changed by hand downstream, and the plan read back through the API.

let api: TestServer
let scim: ScimServer

beforeAll(async () => {
  api = await startTestServer({ PROVISIONING_TIMEOUT_SECONDS: '5' }, { provisioning: { pollMs: 50, random: () => 0 } })
  scim = await startScimServer()
})
afterAll(async () => {
  await api.close()
  await scim.close()
})

const PLAN = `query($appId: ID!, $first: Int, $after: String) {
  previewProvisioning(appId: $appId) {
    appId
    counts { create link update deactivate reactivate unchanged orphaned }
    actions(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node {
        action reason
        appUser { id status externalId }
        user { id profile { login } }
        downstream { id userName active }
        changes { attribute from to }
      } }
    }
  }
}`

async function preview(appId: string, page: { first?: number; after?: string } = {}, token?: string) {
  return api.gql(PLAN, { appId, first: 200, ...page }, token)
}

async function plan(appId: string) {
  const response = await preview(appId)
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  return response.data.previewProvisioning
}

/** The action planned for each user, by login. */
const byLogin = (actions: any[]) => new Map(actions.map((edge) => [edge.node.user.profile.login, edge.node]))

/** A request to the SCIM server as an administrator changing accounts by hand. */
async function byHand(method: string, path: string, body?: unknown) {
  const response = await fetch(`${scim.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${scim.token}`, 'content-type': 'application/scim+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`)
  return response.json() as Promise<StoredScimUser>
}
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User'
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
/** PATCH replace of each attribute path with its value. */
const handPatch = (id: string, values: Record<string, unknown>) =>
  byHand('PATCH', `/Users/${id}`, {
    schemas: [PATCH],
    Operations: Object.entries(values).map(([path, value]) => ({ op: 'replace', path, value })),
  })
const handCreate = (userName: string) => byHand('POST', '/Users', { schemas: [CORE], userName, active: true })

async function provisioned(appId: string, profile: Record<string, unknown> = {}) {
  const user = await activeUser(api, profile)
  await assign(api, appId, user.id)
  const row = await appUserWhen(api, appId, user.id, (current) => current.status === 'PROVISIONED')
  return { user, externalId: row.externalId as string }
}

const snapshot = async (appId: string, userIds: string[]) => ({
  appUsers: await Promise.all(userIds.map((userId) => appUser(api, appId, userId))),
  downstream: scim.users(),
})

test('every kind of action, drift with its changes and an orphan; only GETs are sent and nothing changes', async () => {
  const app = await provisionedApp(api, scim)
  const drifted = await provisioned(app.id, { title: 'Analyst', firstName: 'Ada' })
  const disabledByHand = await provisioned(app.id)
  const leaving = await provisioned(app.id)
  const untouched = await provisioned(app.id)
  // Queued work now waits, so the plan sees the state a run would start from.
  await pause(api, app.id)
  await handPatch(drifted.externalId, { title: 'Countess', 'name.givenName': 'Augusta' })
  await handPatch(disabledByHand.externalId, { active: false })
  await unassign(api, app.id, leaving.user.id)
  const fresh = await activeUser(api)
  await assign(api, app.id, fresh.id)
  const adoptable = await activeUser(api)
  const existing = await handCreate(adoptable.profile.login.toUpperCase())
  await assign(api, app.id, adoptable.id)
  await handCreate(`orphan-${Date.now()}@example.com`)

  const userIds = [drifted, disabledByHand, leaving, untouched].map(({ user }) => user.id)
  userIds.push(fresh.id, adoptable.id)
  const before = await snapshot(app.id, userIds)
  const requests = scim.requestCount()
  const gets = scim.requestCount('GET')

  const result = await plan(app.id)

  expect(scim.requestCount() - requests).toBeGreaterThan(0)
  expect(scim.requestCount() - requests).toBe(scim.requestCount('GET') - gets)
  expect(await snapshot(app.id, userIds)).toEqual(before)

  expect(result.appId).toBe(app.id)
  expect(result.counts).toEqual({
    create: 1,
    link: 1,
    update: 1,
    deactivate: 1,
    reactivate: 1,
    unchanged: 1,
    orphaned: 1,
  })
  expect(result.actions.totalCount).toBe(6)
  const actions = byLogin(result.actions.edges)
  expect(actions.get(drifted.user.profile.login)).toMatchObject({
    action: 'UPDATE',
    appUser: { externalId: drifted.externalId },
    downstream: { id: drifted.externalId, active: true },
    changes: [
      { attribute: 'name.givenName', from: 'Augusta', to: 'Ada' },
      { attribute: 'title', from: 'Countess', to: 'Analyst' },
    ],
  })
  expect(actions.get(disabledByHand.user.profile.login)).toMatchObject({
    action: 'REACTIVATE',
    downstream: { id: disabledByHand.externalId, active: false },
  })
  expect(actions.get(leaving.user.profile.login)).toMatchObject({
    action: 'DEACTIVATE',
    appUser: { status: 'DEPROVISIONED' },
    downstream: { id: leaving.externalId, active: true },
  })
  expect(actions.get(untouched.user.profile.login)).toMatchObject({ action: 'NONE', changes: [] })
  expect(actions.get(fresh.profile.login)).toMatchObject({ action: 'CREATE', downstream: null })
  expect(actions.get(fresh.profile.login).changes).toContainEqual({
    attribute: 'userName',
    from: null,
    to: fresh.profile.login,
  })
  expect(actions.get(adoptable.profile.login)).toMatchObject({
    action: 'LINK',
    appUser: { externalId: null },
    downstream: { id: existing.id, userName: adoptable.profile.login.toUpperCase() },
  })
  for (const action of actions.values()) expect(action.reason).toEqual(expect.any(String))
})

test('the actions are a connection: pages follow one another without repeats', async () => {
  const app = await provisionedApp(api, scim)
  await pause(api, app.id)
  const users = await Promise.all([1, 2, 3, 4, 5].map(() => activeUser(api)))
  for (const user of users) await assign(api, app.id, user.id)

  const seen: string[] = []
  let after: string | undefined
  for (;;) {
    const response = await preview(app.id, { first: 2, after })
    expect(response.errors).toBeUndefined()
    const { actions } = response.data.previewProvisioning
    expect(actions.totalCount).toBe(5)
    seen.push(...actions.edges.map((edge: any) => edge.node.user.id))
    if (!actions.pageInfo.hasNextPage) break
    after = actions.pageInfo.endCursor
  }
  expect(seen.sort()).toEqual(users.map((user) => user.id).sort())

  const foreign = await preview(app.id, { first: 2, after: 'not-a-cursor' })
  expect(foreign.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT'])
})

test('capabilities switched off give NONE with the reason', async () => {
  const app = await provisionedApp(api, scim, { create: false, profile: false, deactivate: false })
  await pause(api, app.id)
  const user = await activeUser(api)
  await assign(api, app.id, user.id)
  const [edge] = (await plan(app.id)).actions.edges
  expect(edge.node).toMatchObject({ action: 'NONE', reason: expect.stringContaining('create.lifecycleCreate') })
})

describe('refusals', () => {
  const codes = (response: { errors?: { extensions?: Record<string, unknown> }[] }) =>
    response.errors?.map((error) => error.extensions?.code)

  test('an app without an enabled provisioning connection: PROVISIONING_NOT_ENABLED', async () => {
    const created = await api.gql(
      `mutation { createApp(input: { name: "sso", label: "SSO only", signOnMode: "SAML_2_0" }) { app { id } } }`,
    )
    const response = await preview(created.data.createApp.app.id)
    expect(codes(response)).toEqual(['PROVISIONING_NOT_ENABLED'])
    expect(response.data?.previewProvisioning).toBeNull()
  })

  test('USER_PROVISIONING switched off: FEATURE_NOT_SUPPORTED, nothing asked downstream', async () => {
    const app = await provisionedApp(api, scim)
    const updated = await api.gql(
      `mutation($input: UpdateAppFeatureInput!) { updateAppFeature(input: $input) { userErrors { code } } }`,
      { input: { appId: app.id, name: 'USER_PROVISIONING', status: 'DISABLED' } },
    )
    expect(updated.data.updateAppFeature.userErrors).toEqual([])
    const requests = scim.requestCount()
    expect(codes(await preview(app.id))).toEqual(['FEATURE_NOT_SUPPORTED'])
    expect(scim.requestCount()).toBe(requests)
  })

  test('an unknown app: NOT_FOUND', async () => {
    expect(codes(await preview('0oaNoSuchApp'))).toEqual(['NOT_FOUND'])
  })

  test('a token without apps:read is refused', async () => {
    const app = await provisionedApp(api, scim)
    const requests = scim.requestCount()
    const token = await api.tokenWith('users:read', 'apps:manage')
    expect(codes(await preview(app.id, {}, token))).toEqual(['FORBIDDEN'])
    expect(scim.requestCount()).toBe(requests)
  })

  test('the user of an action needs users:read as everywhere else', async () => {
    const app = await provisionedApp(api, scim)
    await pause(api, app.id)
    await assign(api, app.id, (await activeUser(api)).id)
    const response = await api.gql(
      `query($appId: ID!) { previewProvisioning(appId: $appId) {
        counts { create } actions { edges { node { action user { id } } } } } }`,
      { appId: app.id },
      await api.tokenWith('apps:read'),
    )
    expect(codes(response)).toEqual(['FORBIDDEN'])
    expect((response.errors?.[0] as { path?: unknown }).path).toEqual([
      'previewProvisioning',
      'actions',
      'edges',
      0,
      'node',
      'user',
    ])
  })
})

describe('a downstream that fails: DOWNSTREAM_FAILED, never INTERNAL', () => {
  let proxy: FaultProxy
  beforeEach(async () => {
    proxy = await startFaultProxy(scim.baseUrl)
  })
  afterEach(() => proxy.close())

  test.each([
    ['refused credentials (401)', { kind: 'status', status: 401, detail: 'bad token' } as const, /credentials/],
    ['a server error (503)', { kind: 'status', status: 503, detail: 'maintenance' } as const, /503: maintenance/],
    ['no answer in time', { kind: 'hang' } as const, /did not answer in time/],
    ['a dropped connection', { kind: 'drop' } as const, /could not be reached/],
  ])('%s', async (_, fault, message) => {
    const app = await provisionedApp(api, { baseUrl: proxy.baseUrl, token: scim.token })
    await setCapabilities(api, app.id, { create: true, profile: true, deactivate: true })
    proxy.inject(fault, { method: 'GET', times: Infinity })
    const response = await preview(app.id)
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['DOWNSTREAM_FAILED'])
    expect(response.errors?.[0].message).toMatch(message)
    expect(proxy.requests().every((request) => request.method === 'GET')).toBe(true)
  })

  test('a failure on a later page fails the whole preview', async () => {
    const app = await provisionedApp(api, { baseUrl: proxy.baseUrl, token: scim.token })
    // Enough accounts downstream for a second page.
    while (scim.users().length <= 200) await handCreate(`filler-${scim.users().length}-${Date.now()}@example.com`)
    proxy.inject({ kind: 'status', status: 500 }, { method: 'GET', path: /startIndex=201/ })
    const response = await preview(app.id)
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['DOWNSTREAM_FAILED'])
    expect(response.errors?.[0].message).toMatch(/HTTP 500 while its accounts were read \(GET \/Users\?startIndex=201&/)
  })
})
