import { startTestServer, type TestServer } from '../support/harness'

let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

const CREATE_TOKEN = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id scopes } userErrors { code field } } }`
const tokenNames = async () =>
  (await api.gql('{ apiTokens { name } }')).data.apiTokens.map((token: { name: string }) => token.name)

test('a token holding only tokens:manage cannot mint a token with more scopes: FORBIDDEN, and none is created', async () => {
  const minter = await api.tokenWith('tokens:manage')
  const response = await api.gql(
    CREATE_TOKEN,
    { input: { name: 'escalated', scopes: ['tokens:manage', 'users:manage', 'users:read'] } },
    minter,
  )
  expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN'])
  expect(response.errors![0].message).toContain('users:manage, users:read')
  expect(response.data?.createApiToken ?? null).toBeNull()
  expect(await tokenNames()).not.toContain('escalated')
})

test('a token may grant any subset of the scopes it holds', async () => {
  const minter = await api.tokenWith('tokens:manage', 'users:read', 'events:read')
  const response = await api.gql(
    CREATE_TOKEN,
    { input: { name: 'narrower', scopes: ['users:read', 'events:read'] } },
    minter,
  )
  expect(response.errors).toBeUndefined()
  expect(response.data.createApiToken.userErrors).toEqual([])
  expect([...response.data.createApiToken.apiToken.scopes].sort()).toEqual(['events:read', 'users:read'])
  const viewer = await api.gql('{ viewer { scopes } }', {}, response.data.createApiToken.token)
  expect([...viewer.data.viewer.scopes].sort()).toEqual(['events:read', 'users:read'])
})
