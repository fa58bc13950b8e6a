import type { TestServer } from './harness'

/** Fields every user test reads back. */
export const USER_FIELDS = `id status transitioningToStatus profile { login email firstName lastName department custom }
  credentials { hasPassword } created activated statusChanged lastLogin lastUpdated passwordChanged`

let counter = 0
export const uniqueLogin = (prefix = 'user') => `${prefix}.${Date.now().toString(36)}.${++counter}@example.com`

export async function createUser(
  api: Pick<TestServer, 'gql'>,
  options: { activate?: boolean; password?: string; profile?: Record<string, unknown> } = {},
) {
  const login = (options.profile?.login as string) ?? uniqueLogin()
  const response = await api.gql(
    `mutation($input: CreateUserInput!) { createUser(input: $input) { user { ${USER_FIELDS} } activationToken userErrors { code message field } } }`,
    {
      input: {
        profile: { login, email: login, firstName: 'Ada', lastName: 'Lovelace', ...options.profile },
        ...(options.password ? { credentials: { password: options.password } } : {}),
        ...(options.activate !== undefined ? { activate: options.activate } : {}),
      },
    },
  )
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  return response.data.createUser
}

/** Runs one lifecycle mutation that takes `input { id }` and returns its payload. */
export async function lifecycle(
  api: TestServer,
  mutation: string,
  id: string,
  extra: Record<string, unknown> = {},
  fields = '',
) {
  const response = await api.gql(
    `mutation($input: ${mutation[0].toUpperCase()}${mutation.slice(1)}Input!) { ${mutation}(input: $input) {
      user { ${USER_FIELDS} } userErrors { code message field } ${fields} } }`,
    { input: { id, ...extra } },
  )
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  return response.data[mutation]
}

export async function getUser(api: TestServer, id: string) {
  const response = await api.gql(`query($id: ID!) { user(id: $id) { ${USER_FIELDS} } }`, { id })
  return response.data.user
}

export async function eventsFor(api: TestServer, targetId: string) {
  const response = await api.gql(
    `query($id: ID!) { events(filter: { targetId: $id }, first: 200) { edges { node { sequence type data outcome { result reason } actor { id type } } } } }`,
    { id: targetId },
  )
  return response.data.events.edges.map((edge: any) => edge.node)
}
