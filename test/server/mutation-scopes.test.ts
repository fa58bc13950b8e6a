import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLInputType,
} from 'graphql'
import { SCOPES, type Scope } from '../../src/tokens/scopes'
import { startTestServer, type TestServer } from '../support/harness'

/** The scope each mutation requires (api.md): declared once, here, and checked against the schema. */
const MUTATION_SCOPES: Record<string, Scope> = {
  createUser: 'users:manage',
  updateUser: 'users:manage',
  activateUser: 'users:manage',
  reactivateUser: 'users:manage',
  deactivateUser: 'users:manage',
  suspendUser: 'users:manage',
  unsuspendUser: 'users:manage',
  unlockUser: 'users:manage',
  resetPassword: 'users:manage',
  expirePassword: 'users:manage',
  setPassword: 'users:manage',
  changePassword: 'users:manage',
  authenticate: 'users:manage',
  deleteUser: 'users:manage',
  createGroup: 'groups:manage',
  updateGroup: 'groups:manage',
  deleteGroup: 'groups:manage',
  addGroupMember: 'groups:manage',
  removeGroupMember: 'groups:manage',
  createGroupRule: 'groups:manage',
  updateGroupRule: 'groups:manage',
  activateGroupRule: 'groups:manage',
  deactivateGroupRule: 'groups:manage',
  deleteGroupRule: 'groups:manage',
  createApp: 'apps:manage',
  updateApp: 'apps:manage',
  activateApp: 'apps:manage',
  deactivateApp: 'apps:manage',
  deleteApp: 'apps:manage',
  updateProvisioningConnection: 'apps:manage',
  updateAppFeature: 'apps:manage',
  assignUserToApp: 'apps:manage',
  unassignUserFromApp: 'apps:manage',
  assignGroupToApp: 'apps:manage',
  unassignGroupFromApp: 'apps:manage',
  retryProvisioning: 'apps:manage',
  retryAppProvisioning: 'apps:manage',
  dismissProvisioningError: 'apps:manage',
  pauseProvisioning: 'apps:manage',
  resumeProvisioning: 'apps:manage',
  importAppUsers: 'apps:manage',
  releaseProvisioningHold: 'apps:manage',
  discardProvisioningHold: 'apps:manage',
  createApiToken: 'tokens:manage',
  revokeApiToken: 'tokens:manage',
}

let api: TestServer
let mutations: { name: string; inputType: GraphQLInputType }[]
beforeAll(async () => {
  api = await startTestServer()
  const mutationType = api.server.schema.getMutationType()!
  mutations = Object.values(mutationType.getFields()).map((field) => ({
    name: field.name,
    inputType: field.args.find((arg) => arg.name === 'input')!.type,
  }))
})
afterAll(() => api.close())

/** The smallest value of an input type the schema accepts: required fields only, each a placeholder. */
function placeholder(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return placeholder(type.ofType)
  if (isListType(type)) return [placeholder(type.ofType)]
  if (isEnumType(type)) return type.getValues()[0].value
  if (isInputObjectType(type)) {
    const required = Object.values(type.getFields()).filter(
      (field) => isNonNullType(field.type) && field.defaultValue === undefined,
    )
    return Object.fromEntries(required.map((field) => [field.name, placeholder(field.type)]))
  }
  if (isScalarType(type))
    return (
      ({ Int: 0, Float: 0, Boolean: false, JSON: {} } as Record<string, unknown>)[type.name] ?? 'placeholder_unknown'
    )
  throw new Error(`no placeholder for ${String(type)}`)
}

const run = (name: string, inputType: GraphQLInputType, token: string) =>
  api.gql(
    `mutation($input: ${String(inputType)}) { ${name}(input: $input) { __typename } }`,
    { input: placeholder(inputType) },
    token,
  )

test('every mutation in the schema has its scope declared in the table, and the table names only mutations', () => {
  expect(mutations.map(({ name }) => name).sort()).toEqual(Object.keys(MUTATION_SCOPES).sort())
  for (const { inputType } of mutations) expect(isInputObjectType(getNamedType(inputType))).toBe(true)
})

test('every mutation is FORBIDDEN to a token holding every scope but the one it requires, and runs for one holding it', async () => {
  const outcomes: Record<string, unknown> = {}
  for (const { name, inputType } of mutations) {
    const scope = MUTATION_SCOPES[name]
    const lacking = await run(name, inputType, await api.tokenWith(...SCOPES.filter((held) => held !== scope)))
    const holding = await run(name, inputType, await api.tokenWith(scope))
    outcomes[name] = {
      without: lacking.errors?.map((error) => error.extensions?.code) ?? [],
      withoutData: lacking.data?.[name] ?? null,
      with: holding.errors?.map((error) => error.extensions?.code) ?? [],
    }
  }
  const expected = Object.fromEntries(
    mutations.map(({ name }) => [name, { without: ['FORBIDDEN'], withoutData: null, with: [] }]),
  )
  expect(outcomes).toEqual(expected)
})
