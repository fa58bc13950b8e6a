import 'reflect-metadata'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { openApplication } from '../../src/app'
import { loadConfig } from '../../src/config'
import { SYSTEM_ACTOR } from '../../src/events/event-log'
import { createLogger } from '../../src/logger'
import { clearBox, KEY_FILE, sealedBox, type SecretBox } from '../../src/provisioning/secrets'
import { freshDatabase, usingPostgres } from '../support/backend'
import { startTestServer, type TestServer } from '../support/harness'
import { eventsFor } from '../support/users'

let counter = 0
const secretToken = () => `scim-token-${Date.now().toString(36)}-${++counter}`
const ERRORS = 'userErrors { code message field }'
const BASE_URL = 'https://scim.example.com/scim/v2'

async function enabledApp(api: TestServer, token: string): Promise<string> {
  const created = await api.gql(
    `mutation { createApp(input: { name: "scim_app", label: "Sealed ${++counter}" }) { app { id } } }`,
  )
  const appId = created.data.createApp.app.id
  const connected = await api.gql(
    `mutation($input: UpdateProvisioningConnectionInput!) {
      updateProvisioningConnection(input: $input) { app { provisioning { status hasToken } } ${ERRORS} } }`,
    { input: { appId, baseUrl: BASE_URL, token, status: 'ENABLED' } },
  )
  expect(connected.data.updateProvisioningConnection).toEqual({
    app: { provisioning: { status: 'ENABLED', hasToken: true } },
    userErrors: [],
  })
  return appId
}

const storedToken = async (api: TestServer, appId: string) =>
  (await api.database.db.prisma.app.findFirstOrThrow({ where: { id: appId } })).provisioningToken

const USER_PROVISIONING = `capabilities { update { password { status seed change } } create { lifecycleCreate { status } } }`

function updateFeature(api: TestServer, appId: string, capabilities: Record<string, unknown>) {
  return api.gql(
    `mutation($input: UpdateAppFeatureInput!) { updateAppFeature(input: $input) { feature { ${USER_PROVISIONING} } ${ERRORS} } }`,
    { input: { appId, name: 'USER_PROVISIONING', capabilities } },
  )
}

describe('with a key', () => {
  const box: SecretBox = sealedBox(randomBytes(32))
  let api: TestServer
  beforeAll(async () => {
    api = await startTestServer({}, { secrets: box })
  })
  afterAll(() => api.close())

  test('updateProvisioningConnection stores the token sealed: not in clear in the App row nor in its events', async () => {
    const token = secretToken()
    const appId = await enabledApp(api, token)
    const stored = await storedToken(api, appId)
    expect(stored).toMatch(/^sealed:v1:/)
    expect(stored).not.toContain(token)
    expect(box.open(stored!)).toBe(token)
    expect(JSON.stringify(await eventsFor(api, appId))).not.toContain(token)
  })

  test('a new token replaces the sealed one; a change without a token keeps it', async () => {
    const appId = await enabledApp(api, secretToken())
    const replacement = secretToken()
    const mutation = `mutation($input: UpdateProvisioningConnectionInput!) { updateProvisioningConnection(input: $input) { ${ERRORS} } }`
    await api.gql(mutation, { input: { appId, token: replacement } })
    expect(box.open((await storedToken(api, appId))!)).toBe(replacement)
    await api.gql(mutation, { input: { appId, baseUrl: `${BASE_URL}/moved` } })
    expect(box.open((await storedToken(api, appId))!)).toBe(replacement)
  })

  test('the OKTA password seed is accepted', async () => {
    const appId = await enabledApp(api, secretToken())
    const response = await updateFeature(api, appId, { update: { password: { seed: 'OKTA' } } })
    expect(response.data.updateAppFeature.userErrors).toEqual([])
    expect(response.data.updateAppFeature.feature.capabilities.update.password.seed).toBe('OKTA')
  })
})

describe('without a key (PostgreSQL without SECRET_KEY)', () => {
  let api: TestServer
  beforeAll(async () => {
    api = await startTestServer({}, { secrets: clearBox })
  })
  afterAll(() => api.close())

  test('the OKTA password seed is refused with FEATURE_NOT_SUPPORTED naming SECRET_KEY, and nothing changes', async () => {
    const appId = await enabledApp(api, secretToken())
    const before = await api.gql(`query($id: ID!) { app(id: $id) { features { name ${USER_PROVISIONING} } } }`, {
      id: appId,
    })
    const refused = await updateFeature(api, appId, {
      create: { lifecycleCreate: { status: 'ENABLED' } },
      update: { password: { seed: 'OKTA' } },
    })
    expect(refused.data.updateAppFeature).toEqual({
      feature: null,
      userErrors: [
        {
          code: 'FEATURE_NOT_SUPPORTED',
          message: expect.stringContaining('SECRET_KEY'),
          field: ['capabilities', 'update', 'password', 'seed'],
        },
      ],
    })
    const after = await api.gql(`query($id: ID!) { app(id: $id) { features { name ${USER_PROVISIONING} } } }`, {
      id: appId,
    })
    expect(after.data).toEqual(before.data)
  })

  test('other feature changes (seed RANDOM) still apply', async () => {
    const appId = await enabledApp(api, secretToken())
    const response = await updateFeature(api, appId, { update: { password: { status: 'ENABLED', seed: 'RANDOM' } } })
    expect(response.data.updateAppFeature.userErrors).toEqual([])
    expect(response.data.updateAppFeature.feature.capabilities.update.password).toEqual({
      status: 'ENABLED',
      seed: 'RANDOM',
      change: 'KEEP_EXISTING',
    })
  })

  test('the token is stored as given, as before sealing existed', async () => {
    const token = secretToken()
    const appId = await enabledApp(api, token)
    expect(await storedToken(api, appId)).toBe(token)
  })
})

describe('at start', () => {
  const silent = createLogger('silent')
  let dataDir: string
  let dropDatabase = async () => {}
  let environment: Record<string, string>
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-seal-at-start-'))
    if (usingPostgres) {
      const database = await freshDatabase()
      dropDatabase = database.drop
      environment = { DATABASE_URL: database.url!, SECRET_KEY: randomBytes(32).toString('hex') }
    } else {
      environment = { DATA_DIR: dataDir }
    }
  })
  afterAll(async () => {
    await dropDatabase()
    fs.rmSync(dataDir, { recursive: true, force: true })
  })

  test('tokens stored in clear are sealed once; a later start leaves them as they are', async () => {
    const token = secretToken()
    const first = await openApplication(loadConfig(environment), silent)
    let appId: string
    try {
      const created = await first.services.apps.create(
        { name: 'legacy', label: 'Legacy', signOnMode: 'SAML_2_0' },
        SYSTEM_ACTOR,
      )
      if (!created.ok) throw new Error(created.errors[0].message)
      appId = created.value.id
      // As a row written before sealing existed (or while PostgreSQL ran without SECRET_KEY).
      await first.db.prisma.app.update({ where: { id: appId }, data: { provisioningToken: token } })
    } finally {
      await first.close()
    }

    const second = await openApplication(loadConfig(environment), silent)
    let sealed: string | null
    try {
      sealed = (await second.db.prisma.app.findFirstOrThrow({ where: { id: appId } })).provisioningToken
      expect(sealed).toMatch(/^sealed:v1:/)
      expect(sealed).not.toContain(token)
      expect(second.secrets.open(sealed!)).toBe(token)
    } finally {
      await second.close()
    }

    const third = await openApplication(loadConfig(environment), silent)
    try {
      expect((await third.db.prisma.app.findFirstOrThrow({ where: { id: appId } })).provisioningToken).toBe(sealed)
    } finally {
      await third.close()
    }
    if (!usingPostgres) expect(fs.statSync(path.join(dataDir, KEY_FILE)).mode & 0o777).toBe(0o600)
  })
})
