import { startTestServer, type TestServer } from '../support/harness'
import { eventsFor } from '../support/users'

let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

let counter = 0
const tag = () => `t${Date.now().toString(36)}${++counter}`

const ERRORS = 'userErrors { code message field }'
const PROVISIONING = 'provisioning { status baseUrl authScheme hasToken }'
const SCHEDULE = 'expression timezone'
const FEATURE_FIELDS = `name status description capabilities {
  create { lifecycleCreate { status } }
  update { profile { status } lifecycleDeactivate { status } password { status seed change } }
  importSettings { username { usernameFormat userNameExpression } schedule { status fullImport { ${SCHEDULE} } incrementalImport { ${SCHEDULE} } } }
  importRules { userCreateAndMatch { exactMatchCriteria allowPartialMatch autoConfirmExactMatch autoConfirmPartialMatch autoConfirmNewUsers autoActivateNewUsers } }
}`

/** Every default of domain.md 4.2, as the API returns it. */
const DEFAULT_USER_PROVISIONING = {
  name: 'USER_PROVISIONING',
  status: 'DISABLED',
  description: expect.stringMatching(/\S/),
  capabilities: {
    create: { lifecycleCreate: { status: 'DISABLED' } },
    update: {
      profile: { status: 'DISABLED' },
      lifecycleDeactivate: { status: 'DISABLED' },
      password: { status: 'DISABLED', seed: 'RANDOM', change: 'KEEP_EXISTING' },
    },
    importSettings: null,
    importRules: null,
  },
}
const DEFAULT_INBOUND_PROVISIONING = {
  name: 'INBOUND_PROVISIONING',
  status: 'DISABLED',
  description: expect.stringMatching(/\S/),
  capabilities: {
    create: null,
    update: null,
    importSettings: {
      username: { usernameFormat: 'EMAIL', userNameExpression: null },
      schedule: { status: 'DISABLED', fullImport: null, incrementalImport: null },
    },
    importRules: {
      userCreateAndMatch: {
        // domain.md 4.2 lists EMAIL or USERNAME without naming a default; the service defaults to USERNAME.
        exactMatchCriteria: 'USERNAME',
        allowPartialMatch: false,
        autoConfirmExactMatch: false,
        autoConfirmPartialMatch: false,
        autoConfirmNewUsers: false,
        autoActivateNewUsers: false,
      },
    },
  },
}

function noErrors(response: { errors?: unknown[] }) {
  if (response.errors) throw new Error(JSON.stringify(response.errors))
}

async function createApp(label = `SCIM app ${tag()}`) {
  const response = await api.gql(
    `mutation($input: CreateAppInput!) { createApp(input: $input) { app { id name label status signOnMode ${PROVISIONING} } ${ERRORS} } }`,
    {
      input: { name: 'scim_app', label },
    },
  )
  noErrors(response)
  expect(response.data.createApp.userErrors).toEqual([])
  return response.data.createApp.app
}

async function updateConnection(input: Record<string, unknown>, token?: string) {
  const response = await api.gql(
    `mutation($input: UpdateProvisioningConnectionInput!) { updateProvisioningConnection(input: $input) { app { id ${PROVISIONING} } ${ERRORS} } }`,
    { input },
    token,
  )
  return response
}

const BASE_URL = 'https://scim.example.com/scim/v2'

async function enabledApp() {
  const app = await createApp()
  const response = await updateConnection({
    appId: app.id,
    baseUrl: BASE_URL,
    token: `secret-${tag()}`,
    status: 'ENABLED',
  })
  noErrors(response)
  expect(response.data.updateProvisioningConnection.userErrors).toEqual([])
  return app.id as string
}

async function features(appId: string, token?: string) {
  return api.gql(`query($id: ID!) { app(id: $id) { id features { ${FEATURE_FIELDS} } } }`, { id: appId }, token)
}

async function featuresOf(appId: string) {
  const response = await features(appId)
  noErrors(response)
  return response.data.app.features
}

async function featureOf(appId: string, name: string) {
  return (await featuresOf(appId)).find((feature: any) => feature.name === name)
}

async function updateFeature(input: Record<string, unknown>, token?: string) {
  return api.gql(
    `mutation($input: UpdateAppFeatureInput!) { updateAppFeature(input: $input) { feature { ${FEATURE_FIELDS} } ${ERRORS} } }`,
    { input },
    token,
  )
}

async function updateFeatureOk(input: Record<string, unknown>) {
  const response = await updateFeature(input)
  noErrors(response)
  expect(response.data.updateAppFeature.userErrors).toEqual([])
  return response.data.updateAppFeature.feature
}

describe('provisioning connection', () => {
  test('a new app is ACTIVE and its provisioning connection is DISABLED, without baseUrl or token', async () => {
    const app = await createApp('Slack')
    expect(app).toEqual({
      id: expect.any(String),
      name: 'scim_app',
      label: 'Slack',
      status: 'ACTIVE',
      signOnMode: 'SAML_2_0',
      provisioning: { status: 'DISABLED', baseUrl: null, authScheme: null, hasToken: false },
    })
  })

  test('reading the features of an app whose connection is not enabled is a PROVISIONING_NOT_ENABLED error on that field', async () => {
    const app = await createApp()
    const response = await features(app.id)
    expect(response.data.app).toEqual({ id: app.id, features: null })
    expect(response.errors).toHaveLength(1)
    expect(response.errors![0]).toMatchObject({
      path: ['app', 'features'],
      extensions: { code: 'PROVISIONING_NOT_ENABLED' },
    })
  })

  test('updating a feature of an app whose connection is not enabled is PROVISIONING_NOT_ENABLED and changes nothing', async () => {
    const app = await createApp()
    const response = await updateFeature({
      appId: app.id,
      name: 'USER_PROVISIONING',
      status: 'ENABLED',
      capabilities: { update: { password: { seed: 'OKTA' } } },
    })
    noErrors(response)
    expect(response.data.updateAppFeature).toEqual({
      feature: null,
      userErrors: [{ code: 'PROVISIONING_NOT_ENABLED', message: expect.any(String), field: ['appId'] }],
    })

    noErrors(await updateConnection({ appId: app.id, baseUrl: BASE_URL, status: 'ENABLED' }))
    expect(await featuresOf(app.id)).toEqual([DEFAULT_USER_PROVISIONING, DEFAULT_INBOUND_PROVISIONING])
  })

  test('enabling the connection with a baseUrl and token shows status, baseUrl, TOKEN scheme and hasToken, and never returns the token', async () => {
    const app = await createApp()
    const token = `downstream-secret-${tag()}`
    const enabled = await updateConnection({ appId: app.id, baseUrl: BASE_URL, token, status: 'ENABLED' })
    noErrors(enabled)
    expect(enabled.data.updateProvisioningConnection).toEqual({
      app: { id: app.id, provisioning: { status: 'ENABLED', baseUrl: BASE_URL, authScheme: 'TOKEN', hasToken: true } },
      userErrors: [],
    })
    expect(JSON.stringify(enabled)).not.toContain(token)

    const full = await api.gql(
      `query($id: ID!) { app(id: $id) { id name label status signOnMode created lastUpdated ${PROVISIONING}
        features { ${FEATURE_FIELDS} } users { totalCount } groups { totalCount } } node(id: $id) { id ... on App { ${PROVISIONING} } } }`,
      { id: app.id },
    )
    noErrors(full)
    expect(full.data.app.provisioning).toEqual({
      status: 'ENABLED',
      baseUrl: BASE_URL,
      authScheme: 'TOKEN',
      hasToken: true,
    })
    expect(JSON.stringify(full)).not.toContain(token)
    expect(JSON.stringify(await eventsFor(api, app.id))).not.toContain(token)
  })

  test('enabling a connection without a baseUrl is VALIDATION on baseUrl and stores nothing', async () => {
    const app = await createApp()
    const refused = await updateConnection({ appId: app.id, token: 'never-stored', status: 'ENABLED' })
    noErrors(refused)
    expect(refused.data.updateProvisioningConnection).toEqual({
      app: null,
      userErrors: [{ code: 'VALIDATION', message: expect.any(String), field: ['baseUrl'] }],
    })
    const after = await api.gql(`query($id: ID!) { app(id: $id) { ${PROVISIONING} } }`, { id: app.id })
    expect(after.data.app.provisioning).toEqual({
      status: 'DISABLED',
      baseUrl: null,
      authScheme: null,
      hasToken: false,
    })
  })

  test('a baseUrl that is not an http(s) URL is VALIDATION on baseUrl', async () => {
    const app = await createApp()
    const refused = await updateConnection({ appId: app.id, baseUrl: 'ftp://scim.example.com', status: 'ENABLED' })
    noErrors(refused)
    expect(refused.data.updateProvisioningConnection.app).toBeNull()
    expect(refused.data.updateProvisioningConnection.userErrors[0]).toMatchObject({
      code: 'VALIDATION',
      field: ['baseUrl'],
    })
  })

  test('disabling the connection hides the features again; baseUrl, token and feature settings are kept for the next enabling', async () => {
    const appId = await enabledApp()
    await updateFeatureOk({
      appId,
      name: 'USER_PROVISIONING',
      capabilities: { update: { password: { seed: 'OKTA' } } },
    })
    const disabled = await updateConnection({ appId, status: 'DISABLED' })
    expect(disabled.data.updateProvisioningConnection.app.provisioning).toEqual({
      status: 'DISABLED',
      baseUrl: BASE_URL,
      authScheme: 'TOKEN',
      hasToken: true,
    })
    expect((await features(appId)).errors![0].extensions!.code).toBe('PROVISIONING_NOT_ENABLED')

    await updateConnection({ appId, status: 'ENABLED' })
    expect((await featureOf(appId, 'USER_PROVISIONING')).capabilities.update.password.seed).toBe('OKTA')
  })
})

describe('application features', () => {
  test('an enabled connection lists USER_PROVISIONING and INBOUND_PROVISIONING with every default of domain.md 4.2', async () => {
    const appId = await enabledApp()
    expect(await featuresOf(appId)).toEqual([DEFAULT_USER_PROVISIONING, DEFAULT_INBOUND_PROVISIONING])
  })

  test('updateAppFeature changes only the given path (password seed OKTA) and returns the feature whole', async () => {
    const appId = await enabledApp()
    const feature = await updateFeatureOk({
      appId,
      name: 'USER_PROVISIONING',
      capabilities: { update: { password: { seed: 'OKTA' } } },
    })
    const expected = {
      ...DEFAULT_USER_PROVISIONING,
      capabilities: {
        ...DEFAULT_USER_PROVISIONING.capabilities,
        update: {
          ...DEFAULT_USER_PROVISIONING.capabilities.update,
          password: { status: 'DISABLED', seed: 'OKTA', change: 'KEEP_EXISTING' },
        },
      },
    }
    expect(feature).toEqual(expected)
    expect(await featuresOf(appId)).toEqual([expected, DEFAULT_INBOUND_PROVISIONING])
    const types = (await eventsFor(api, appId)).map((event: any) => event.type)
    expect(types.at(-1)).toBe('application.lifecycle.update')
  })

  test('a second partial update (create.lifecycleCreate) keeps the first (password seed)', async () => {
    const appId = await enabledApp()
    await updateFeatureOk({
      appId,
      name: 'USER_PROVISIONING',
      capabilities: { update: { password: { seed: 'OKTA' } } },
    })
    const feature = await updateFeatureOk({
      appId,
      name: 'USER_PROVISIONING',
      capabilities: { create: { lifecycleCreate: { status: 'ENABLED' } } },
    })
    const expected = {
      ...DEFAULT_USER_PROVISIONING,
      capabilities: {
        ...DEFAULT_USER_PROVISIONING.capabilities,
        create: { lifecycleCreate: { status: 'ENABLED' } },
        update: {
          ...DEFAULT_USER_PROVISIONING.capabilities.update,
          password: { status: 'DISABLED', seed: 'OKTA', change: 'KEEP_EXISTING' },
        },
      },
    }
    expect(feature).toEqual(expected)
    expect(await featureOf(appId, 'USER_PROVISIONING')).toEqual(expected)
  })

  test('the feature status can be enabled alone, leaving every capability as it was', async () => {
    const appId = await enabledApp()
    await updateFeatureOk({
      appId,
      name: 'USER_PROVISIONING',
      capabilities: { update: { profile: { status: 'ENABLED' } } },
    })
    const before = await featureOf(appId, 'USER_PROVISIONING')
    const feature = await updateFeatureOk({ appId, name: 'USER_PROVISIONING', status: 'ENABLED' })
    expect(feature).toEqual({ ...before, status: 'ENABLED' })
    expect(await featuresOf(appId)).toEqual([{ ...before, status: 'ENABLED' }, DEFAULT_INBOUND_PROVISIONING])
  })

  test('a capability part of the other feature is VALIDATION naming it, and nothing changes, not even the valid parts', async () => {
    const appId = await enabledApp()
    await updateFeatureOk({
      appId,
      name: 'USER_PROVISIONING',
      capabilities: { update: { password: { seed: 'OKTA' } } },
    })
    const before = await featuresOf(appId)

    const onUser = await updateFeature({
      appId,
      name: 'USER_PROVISIONING',
      status: 'ENABLED',
      capabilities: {
        update: { password: { change: 'CHANGE' } },
        importRules: { userCreateAndMatch: { autoActivateNewUsers: true } },
      },
    })
    noErrors(onUser)
    expect(onUser.data.updateAppFeature.feature).toBeNull()
    expect(onUser.data.updateAppFeature.userErrors).toEqual([
      { code: 'VALIDATION', message: expect.stringContaining('importRules'), field: ['capabilities', 'importRules'] },
    ])

    const onInbound = await updateFeature({
      appId,
      name: 'INBOUND_PROVISIONING',
      capabilities: { create: { lifecycleCreate: { status: 'ENABLED' } } },
    })
    noErrors(onInbound)
    expect(onInbound.data.updateAppFeature.feature).toBeNull()
    expect(onInbound.data.updateAppFeature.userErrors).toEqual([
      { code: 'VALIDATION', message: expect.stringContaining('create'), field: ['capabilities', 'create'] },
    ])

    expect(await featuresOf(appId)).toEqual(before)
  })

  test('INBOUND_PROVISIONING importRules and importSettings update partially, each keeping the other', async () => {
    const appId = await enabledApp()
    const rules = await updateFeatureOk({
      appId,
      name: 'INBOUND_PROVISIONING',
      capabilities: { importRules: { userCreateAndMatch: { exactMatchCriteria: 'EMAIL', autoConfirmNewUsers: true } } },
    })
    const expectedRules = {
      ...DEFAULT_INBOUND_PROVISIONING.capabilities.importRules.userCreateAndMatch,
      exactMatchCriteria: 'EMAIL',
      autoConfirmNewUsers: true,
    }
    expect(rules).toEqual({
      ...DEFAULT_INBOUND_PROVISIONING,
      capabilities: {
        ...DEFAULT_INBOUND_PROVISIONING.capabilities,
        importRules: { userCreateAndMatch: expectedRules },
      },
    })

    const fullImport = { expression: '0 2 * * *', timezone: 'Europe/Berlin' }
    await updateFeatureOk({
      appId,
      name: 'INBOUND_PROVISIONING',
      capabilities: { importSettings: { schedule: { status: 'ENABLED', fullImport } } },
    })
    const settings = await updateFeatureOk({
      appId,
      name: 'INBOUND_PROVISIONING',
      capabilities: {
        importSettings: { username: { usernameFormat: 'CUSTOM', userNameExpression: 'appuser.userName' } },
      },
    })
    const expected = {
      ...DEFAULT_INBOUND_PROVISIONING,
      capabilities: {
        ...DEFAULT_INBOUND_PROVISIONING.capabilities,
        importSettings: {
          username: { usernameFormat: 'CUSTOM', userNameExpression: 'appuser.userName' },
          schedule: { status: 'ENABLED', fullImport, incrementalImport: null },
        },
        importRules: { userCreateAndMatch: expectedRules },
      },
    }
    expect(settings).toEqual(expected)
    expect(await featuresOf(appId)).toEqual([DEFAULT_USER_PROVISIONING, expected])

    const timezone = await updateFeatureOk({
      appId,
      name: 'INBOUND_PROVISIONING',
      capabilities: { importSettings: { schedule: { fullImport: { timezone: 'UTC' } } } },
    })
    expect(timezone.capabilities.importSettings.schedule).toEqual({
      status: 'ENABLED',
      fullImport: { expression: '0 2 * * *', timezone: 'UTC' },
      incrementalImport: null,
    })
  })

  test('updating a feature of an unknown app is NOT_FOUND', async () => {
    const response = await updateFeature({
      appId: 'app_0000000000nosuchappnosuch0',
      name: 'USER_PROVISIONING',
      status: 'ENABLED',
    })
    noErrors(response)
    expect(response.data.updateAppFeature.feature).toBeNull()
    expect(response.data.updateAppFeature.userErrors[0].code).toBe('NOT_FOUND')
  })

  test('apps:read can read features but cannot update them or the connection (FORBIDDEN), and nothing changes', async () => {
    const appId = await enabledApp()
    const reader = await api.tokenWith('apps:read')
    const read = await features(appId, reader)
    expect(read.errors).toBeUndefined()
    expect(read.data.app.features).toEqual([DEFAULT_USER_PROVISIONING, DEFAULT_INBOUND_PROVISIONING])

    const update = await updateFeature(
      { appId, name: 'USER_PROVISIONING', status: 'ENABLED', capabilities: { update: { password: { seed: 'OKTA' } } } },
      reader,
    )
    expect(update.data).toBeNull()
    expect(update.errors?.[0].extensions?.code).toBe('FORBIDDEN')
    const connection = await updateConnection({ appId, status: 'DISABLED' }, reader)
    expect(connection.errors?.[0].extensions?.code).toBe('FORBIDDEN')

    expect(await featuresOf(appId)).toEqual([DEFAULT_USER_PROVISIONING, DEFAULT_INBOUND_PROVISIONING])
  })
})

describe('clearing and checking inbound settings', () => {
  test('a nullable setting is cleared by null, other settings are left alone by null', async () => {
    const appId = await enabledApp()
    await updateFeatureOk({
      appId,
      name: 'INBOUND_PROVISIONING',
      capabilities: {
        importSettings: {
          username: { usernameFormat: 'CUSTOM', userNameExpression: 'appuser.userName' },
          schedule: { status: 'ENABLED', fullImport: { expression: '0 3 * * *', timezone: 'Europe/Oslo' } },
        },
      },
    })
    const cleared = await updateFeatureOk({
      appId,
      name: 'INBOUND_PROVISIONING',
      capabilities: {
        importSettings: {
          username: { usernameFormat: 'EMAIL', userNameExpression: null },
          schedule: { status: null, fullImport: null },
        },
      },
    })
    expect(cleared.capabilities.importSettings.username).toEqual({ usernameFormat: 'EMAIL', userNameExpression: null })
    expect(cleared.capabilities.importSettings.schedule).toMatchObject({ status: 'ENABLED', fullImport: null })
  })

  test('an import schedule needs a cron expression and an IANA time zone', async () => {
    const appId = await enabledApp()
    const before = await featureOf(appId, 'INBOUND_PROVISIONING')
    for (const fullImport of [
      { expression: 'not cron', timezone: 'UTC' },
      { expression: '0 3 * * *', timezone: 'Mars/Olympus' },
    ]) {
      const response = await updateFeature({
        appId,
        name: 'INBOUND_PROVISIONING',
        capabilities: { importSettings: { schedule: { fullImport } } },
      })
      expect(response.data.updateAppFeature.userErrors[0].code).toBe('VALIDATION')
    }
    expect(await featureOf(appId, 'INBOUND_PROVISIONING')).toEqual(before)
  })
})
