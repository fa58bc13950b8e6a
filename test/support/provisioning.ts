import type { TestServer as FullTestServer } from './harness'
import { createUser } from './users'

/** What the helpers need of a server: a GraphQL call with an admin token (in-process or a child process). */
export type TestServer = Pick<FullTestServer, 'gql'>

/** Provisioning scenarios through the public API: an app pointed at a SCIM downstream, assignments, app users. */

export const APP_USER_FIELDS = `id status syncState externalId lastSync statusChanged
  provisioningError { summary causes occurredAt attempts }`

const ERRORS = 'userErrors { code message field }'

export interface Capabilities {
  create?: boolean
  profile?: boolean
  deactivate?: boolean
  password?: { status?: 'ENABLED' | 'DISABLED'; seed?: 'OKTA' | 'RANDOM'; change?: 'KEEP_EXISTING' | 'CHANGE' }
}

const status = (on: boolean | undefined) => ({ status: on ? 'ENABLED' : 'DISABLED' })

async function ok(api: TestServer, query: string, input: Record<string, unknown>) {
  const response = await api.gql(query, { input })
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  const payload = Object.values(response.data as Record<string, { userErrors: unknown[] }>)[0]
  if (payload.userErrors.length) throw new Error(JSON.stringify(payload.userErrors))
  return payload as any
}

/** An ACTIVE app with an ENABLED SCIM connection to `downstream` and USER_PROVISIONING set to `capabilities`. */
export async function provisionedApp(
  api: TestServer,
  downstream: { baseUrl: string; token: string },
  capabilities: Capabilities = { create: true, profile: true, deactivate: true },
) {
  const { app } = await ok(
    api,
    `mutation($input: CreateAppInput!) { createApp(input: $input) { app { id label } ${ERRORS} } }`,
    { name: 'scim', label: `SCIM app ${Math.random().toString(36).slice(2, 8)}`, signOnMode: 'SAML_2_0' },
  )
  await ok(
    api,
    `mutation($input: UpdateProvisioningConnectionInput!) { updateProvisioningConnection(input: $input) { app { id } ${ERRORS} } }`,
    { appId: app.id, baseUrl: downstream.baseUrl, token: downstream.token, authScheme: 'TOKEN', status: 'ENABLED' },
  )
  await setCapabilities(api, app.id, capabilities)
  return app as { id: string; label: string }
}

export async function setCapabilities(api: TestServer, appId: string, capabilities: Capabilities) {
  await ok(
    api,
    `mutation($input: UpdateAppFeatureInput!) { updateAppFeature(input: $input) { feature { name } ${ERRORS} } }`,
    {
      appId,
      name: 'USER_PROVISIONING',
      status: 'ENABLED',
      capabilities: {
        create: { lifecycleCreate: status(capabilities.create) },
        update: {
          profile: status(capabilities.profile),
          lifecycleDeactivate: status(capabilities.deactivate),
          ...(capabilities.password && { password: capabilities.password }),
        },
      },
    },
  )
}

/** An ACTIVE user (a fresh login unless the profile gives one). */
export async function activeUser(api: TestServer, profile: Record<string, unknown> = {}) {
  const { user } = await createUser(api, { activate: true, profile })
  return user as { id: string; profile: { login: string } }
}

export async function assign(api: TestServer, appId: string, userId: string) {
  return (
    await ok(
      api,
      `mutation($input: AppUserInput!) { assignUserToApp(input: $input) { appUser { ${APP_USER_FIELDS} } ${ERRORS} } }`,
      { appId, userId },
    )
  ).appUser
}

export async function unassign(api: TestServer, appId: string, userId: string) {
  return (
    await ok(
      api,
      `mutation($input: AppUserInput!) { unassignUserFromApp(input: $input) { appUser { ${APP_USER_FIELDS} } ${ERRORS} } }`,
      { appId, userId },
    )
  ).appUser
}

export async function appUser(api: TestServer, appId: string, userId: string, fields = APP_USER_FIELDS) {
  const response = await api.gql(
    `query($appId: ID!, $userId: ID!) { appUser(appId: $appId, userId: $userId) { ${fields} } }`,
    {
      appId,
      userId,
    },
  )
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  return response.data.appUser
}

/**
 * Reads the app user until `done` holds. The engine works in the background, so a test waits for
 * the state it expects; the limit only bounds a broken run, it is not a timing goal.
 */
export async function appUserWhen(
  api: TestServer,
  appId: string,
  userId: string,
  done: (appUser: any) => boolean,
  fields = APP_USER_FIELDS,
  limitMs = 20_000,
) {
  const give = Date.now() + limitMs
  let last: any
  while (Date.now() < give) {
    last = await appUser(api, appId, userId, fields)
    if (last && done(last)) return last
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`app user never reached the expected state; last seen: ${JSON.stringify(last)}`)
}

export async function pause(api: TestServer, appId: string) {
  await ok(
    api,
    `mutation($input: PauseProvisioningInput!) { pauseProvisioning(input: $input) { app { id } ${ERRORS} } }`,
    { appId },
  )
}

export async function resume(api: TestServer, appId: string) {
  await ok(
    api,
    `mutation($input: ResumeProvisioningInput!) { resumeProvisioning(input: $input) { app { id } ${ERRORS} } }`,
    { appId },
  )
}

/** A server in a child process as the helpers see it: GraphQL with its admin token. */
export function remote(url: string, token: string): TestServer {
  return {
    async gql(query, variables) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      })
      return { status: response.status, headers: response.headers, ...((await response.json()) as object) }
    },
  }
}
