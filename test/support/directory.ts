import type { TestServer } from './harness'

/** GraphQL helpers for groups, apps and assignments; each throws on a userError so tests read as steps. */
function unwrap(response: { data?: any; errors?: unknown[] }, field: string) {
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  const payload = response.data[field]
  if (payload.userErrors?.length) throw new Error(`${field}: ${JSON.stringify(payload.userErrors)}`)
  return payload
}

let counter = 0
const unique = (prefix: string) => `${prefix} ${Date.now().toString(36)}-${++counter}`

export const APP_USER_FIELDS = `id status syncState scope externalId statusChanged
  app { id } user { id } assignedVia { scope group { id name } }`

export async function createGroup(api: TestServer, name = unique('group')) {
  const response = await api.gql(
    `mutation($input: CreateGroupInput!) { createGroup(input: $input) { group { id name type } userErrors { code message } } }`,
    {
      input: { name },
    },
  )
  return unwrap(response, 'createGroup').group
}

export async function addMember(api: TestServer, groupId: string, userId: string) {
  const response = await api.gql(
    `mutation($input: GroupMemberInput!) { addGroupMember(input: $input) { group { id } userErrors { code message } } }`,
    {
      input: { groupId, userId },
    },
  )
  return unwrap(response, 'addGroupMember')
}

export async function removeMember(api: TestServer, groupId: string, userId: string) {
  const response = await api.gql(
    `mutation($input: GroupMemberInput!) { removeGroupMember(input: $input) { group { id } userErrors { code message } } }`,
    {
      input: { groupId, userId },
    },
  )
  return unwrap(response, 'removeGroupMember')
}

export async function createApp(api: TestServer, label = unique('app')) {
  const response = await api.gql(
    `mutation($input: CreateAppInput!) { createApp(input: $input) { app { id label status } userErrors { code message } } }`,
    {
      input: { name: 'scim_app', label },
    },
  )
  return unwrap(response, 'createApp').app
}

/** Enables the provisioning connection and USER_PROVISIONING with the given capabilities. */
export async function enableProvisioning(
  api: TestServer,
  appId: string,
  capabilities: { deactivate?: boolean; profile?: boolean } = {},
) {
  unwrap(
    await api.gql(
      `mutation($input: UpdateProvisioningConnectionInput!) { updateProvisioningConnection(input: $input) { app { id } userErrors { code message } } }`,
      {
        input: { appId, baseUrl: 'http://127.0.0.1:9/scim/v2', token: 'downstream-secret', status: 'ENABLED' },
      },
    ),
    'updateProvisioningConnection',
  )
  const status = (on?: boolean) => ({ status: on ? 'ENABLED' : 'DISABLED' })
  unwrap(
    await api.gql(
      `mutation($input: UpdateAppFeatureInput!) { updateAppFeature(input: $input) { feature { name } userErrors { code message } } }`,
      {
        input: {
          appId,
          name: 'USER_PROVISIONING',
          status: 'ENABLED',
          capabilities: {
            create: { lifecycleCreate: status(true) },
            update: { lifecycleDeactivate: status(capabilities.deactivate), profile: status(capabilities.profile) },
          },
        },
      },
    ),
    'updateAppFeature',
  )
}

export async function assignUser(api: TestServer, appId: string, userId: string) {
  const response = await api.gql(
    `mutation($input: AppUserInput!) { assignUserToApp(input: $input) { appUser { ${APP_USER_FIELDS} } userErrors { code message } } }`,
    {
      input: { appId, userId },
    },
  )
  return response.data.assignUserToApp
}

export async function unassignUser(api: TestServer, appId: string, userId: string) {
  const response = await api.gql(
    `mutation($input: AppUserInput!) { unassignUserFromApp(input: $input) { appUser { ${APP_USER_FIELDS} } userErrors { code message } } }`,
    {
      input: { appId, userId },
    },
  )
  return response.data.unassignUserFromApp
}

export async function assignGroup(api: TestServer, appId: string, groupId: string, priority?: number) {
  const response = await api.gql(
    `mutation($input: AssignGroupToAppInput!) { assignGroupToApp(input: $input) { app { id } group { id } priority userErrors { code message } } }`,
    {
      input: { appId, groupId, priority },
    },
  )
  return response.data.assignGroupToApp
}

export async function unassignGroup(api: TestServer, appId: string, groupId: string) {
  const response = await api.gql(
    `mutation($input: AppGroupInput!) { unassignGroupFromApp(input: $input) { app { id } userErrors { code message } } }`,
    {
      input: { appId, groupId },
    },
  )
  return unwrap(response, 'unassignGroupFromApp')
}

export async function appUser(api: TestServer, appId: string, userId: string) {
  const response = await api.gql(
    `query($appId: ID!, $userId: ID!) { appUser(appId: $appId, userId: $userId) { ${APP_USER_FIELDS} } }`,
    { appId, userId },
  )
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  return response.data.appUser
}

/** The provisioning outbox rows of an app user, oldest first (what the provisioning worker will run). */
export async function jobsOf(api: TestServer, appUserId: string) {
  const jobs = await api.database.db.prisma.provisioningJob.findMany({ where: { appUserId }, orderBy: { id: 'asc' } })
  return jobs.map((job) => `${job.type}:${job.state}`)
}

/** Stands in for a completed provisioning push (the worker's job): the downstream account exists. */
export async function markProvisioned(api: TestServer, appUserId: string, externalId = `ext-${appUserId}`) {
  await api.database.db.prisma.provisioningJob.updateMany({
    where: { appUserId, state: 'QUEUED' },
    data: { state: 'SUCCEEDED' },
  })
  await api.database.db.prisma.appUser.update({
    where: { id: appUserId },
    data: { status: 'PROVISIONED', syncState: 'SYNCHRONIZED', externalId },
  })
}

/** Stands in for a provisioning failure (the worker's job): the app user's work failed, it is in syncState ERROR. */
export async function markProvisioningError(api: TestServer, appUserId: string, summary = 'downstream refused') {
  await api.database.db.prisma.provisioningJob.updateMany({
    where: { appUserId, state: 'QUEUED' },
    data: { state: 'FAILED' },
  })
  await api.database.db.prisma.appUser.update({
    where: { id: appUserId },
    data: {
      syncState: 'ERROR',
      provisioningError: { summary, causes: [summary], occurredAt: new Date().toISOString(), attempts: 10 },
    },
  })
}
