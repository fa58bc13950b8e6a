// Every GraphQL document the dashboard sends. Parts of the API may be missing on an older
// server (held deprovisioning, the lifecycleEvents stream): `discover` asks the schema by
// introspection, and the panels that need a missing part say so instead of failing.
import { request } from './graphql'

export interface Capabilities {
  userStatuses: string[]
  syncStates: string[]
  /** `lifecycleEvents` subscription (the live feed). */
  lifecycleEvents: boolean
  /** `provisioningHolds` query with release/discard (held deprovisioning). */
  provisioningHolds: boolean
}

type TypeInfo = { enumValues: { name: string }[] | null; fields: { name: string }[] | null } | null

export async function discover(token: string): Promise<Capabilities> {
  const data = await request<{ userStatus: TypeInfo; syncState: TypeInfo; query: TypeInfo; subscription: TypeInfo }>(
    token,
    `query DashboardCapabilities {
      userStatus: __type(name: "UserStatus") { enumValues { name } fields { name } }
      syncState: __type(name: "AppUserSyncState") { enumValues { name } fields { name } }
      query: __type(name: "Query") { enumValues { name } fields { name } }
      subscription: __type(name: "Subscription") { enumValues { name } fields { name } }
    }`,
  )
  const names = (info: TypeInfo, part: 'enumValues' | 'fields') => info?.[part]?.map((entry) => entry.name) ?? []
  return {
    userStatuses: names(data.userStatus, 'enumValues'),
    syncStates: names(data.syncState, 'enumValues'),
    lifecycleEvents: names(data.subscription, 'fields').includes('lifecycleEvents'),
    provisioningHolds: names(data.query, 'fields').includes('provisioningHolds'),
  }
}

/** Enum values become aliases; GraphQL names are already safe as aliases once prefixed. */
const alias = (value: string) => `n_${value}`

export type Counts = Record<string, number>

/** Users per status: one `totalCount` of a filtered list per status, in one request. */
export async function userCounts(token: string, statuses: string[]): Promise<Counts> {
  const fields = statuses
    .map((status) => `${alias(status)}: users(filter: { status: [${status}] }, first: 0) { totalCount }`)
    .join('\n')
  const data = await request<Record<string, { totalCount: number }>>(token, `query UserCounts {\n${fields}\n}`)
  return Object.fromEntries(statuses.map((status) => [status, data[alias(status)].totalCount]))
}

export interface ProvisioningErrorRow {
  id: string
  user: { id: string; profile: { login: string } }
  provisioningError: { summary: string; occurredAt: string; attempts: number } | null
}

export interface AppSummary {
  id: string
  label: string
  /** App users per sync state. */
  counts: Counts
  errors: { totalCount: number; edges: { node: ProvisioningErrorRow }[] }
}

export const APPS_SHOWN = 50
export const ERRORS_SHOWN_PER_APP = 10

/** Apps with their app users per sync state and their first app users in ERROR. */
export async function appSummaries(
  token: string,
  syncStates: string[],
): Promise<{ apps: AppSummary[]; totalApps: number }> {
  const counts = syncStates
    .map((state) => `${alias(state)}: users(filter: { syncState: [${state}] }, first: 0) { totalCount }`)
    .join('\n')
  type AppNode = { id: string; label: string; errors: AppSummary['errors'] } & Record<string, { totalCount: number }>
  const data = await request<{ apps: { totalCount: number; edges: { node: AppNode }[] } }>(
    token,
    `query AppSyncStates($apps: Int!, $errors: Int!) {
      apps(first: $apps) {
        totalCount
        edges { node {
          id label
          ${counts}
          errors: users(filter: { syncState: [ERROR] }, first: $errors) {
            totalCount
            edges { node { id user { id profile { login } } provisioningError { summary occurredAt attempts } } }
          }
        } }
      }
    }`,
    { apps: APPS_SHOWN, errors: ERRORS_SHOWN_PER_APP },
  )
  return {
    totalApps: data.apps.totalCount,
    apps: data.apps.edges.map(({ node }) => ({
      id: node.id,
      label: node.label,
      errors: node.errors,
      counts: Object.fromEntries(syncStates.map((state) => [state, node[alias(state)].totalCount])),
    })),
  }
}

export interface HeldAppUser {
  id: string
  user: { id: string; profile: { login: string } }
}

export interface AppHolds {
  appId: string
  label: string
  totalCount: number
  held: HeldAppUser[]
}

/** Held deprovisioning of every shown app, in one request (an alias per app). */
export async function holdsOf(token: string, apps: { id: string; label: string }[]): Promise<AppHolds[]> {
  if (apps.length === 0) return []
  const variables = Object.fromEntries(apps.map((app, index) => [`app${index}`, app.id]))
  const fields = apps
    .map(
      (_app, index) =>
        `h${index}: provisioningHolds(appId: $app${index}, first: ${ERRORS_SHOWN_PER_APP}) { totalCount edges { node { id user { id profile { login } } } } }`,
    )
    .join('\n')
  const declarations = apps.map((_app, index) => `$app${index}: ID!`).join(', ')
  const data = await request<Record<string, { totalCount: number; edges: { node: HeldAppUser }[] }>>(
    token,
    `query ProvisioningHolds(${declarations}) {\n${fields}\n}`,
    variables,
  )
  return apps.map((app, index) => ({
    appId: app.id,
    label: app.label,
    totalCount: data[`h${index}`].totalCount,
    held: data[`h${index}`].edges.map((edge) => edge.node),
  }))
}

type UserErrors = { userErrors: { code: string; message: string }[] }

/** Runs one of the provisioning mutations and resolves to its first user error's message, if any. */
async function provisioningMutation(token: string, name: string, input: Record<string, unknown>, inputType: string) {
  const data = await request<Record<string, UserErrors>>(
    token,
    `mutation Dashboard_${name}($input: ${inputType}!) { ${name}(input: $input) { userErrors { code message } } }`,
    { input },
  )
  return data[name].userErrors[0]?.message ?? null
}

export const retryProvisioning = (token: string, appId: string, userId: string) =>
  provisioningMutation(token, 'retryProvisioning', { appId, userId }, 'RetryProvisioningInput')

export const releaseProvisioningHold = (token: string, appId: string, appUserIds: string[]) =>
  provisioningMutation(token, 'releaseProvisioningHold', { appId, appUserIds }, 'ReleaseProvisioningHoldInput')

export const discardProvisioningHold = (token: string, appId: string, appUserIds: string[]) =>
  provisioningMutation(token, 'discardProvisioningHold', { appId, appUserIds }, 'DiscardProvisioningHoldInput')

export interface FeedEvent {
  id: string
  sequence: number
  cursor: string
  type: string
  published: string
  actor: { displayName: string }
  target: { id: string; type: string; displayName: string } | null
  outcome: { result: string }
}

export const FEED_EVENT_FIELDS = `id sequence cursor type published actor { displayName } target { id type displayName } outcome { result }`

/** The newest stored events (oldest first), to fill the feed before going live. */
export async function latestEvents(token: string, count: number): Promise<FeedEvent[]> {
  const data = await request<{ events: { edges: { node: FeedEvent }[] } }>(
    token,
    `query LatestEvents($count: Int!) { events(last: $count) { edges { node { ${FEED_EVENT_FIELDS} } } } }`,
    { count },
  )
  return data.events.edges.map((edge) => edge.node)
}

export const LIFECYCLE_EVENTS = `subscription DashboardFeed($after: String) {
  lifecycleEvents(filter: { after: $after }) { ${FEED_EVENT_FIELDS} }
}`
