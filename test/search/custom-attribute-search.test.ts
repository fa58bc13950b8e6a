import { startTestServer, type TestServer } from '../support/harness'
import { createUser } from '../support/users'

let api: TestServer
beforeAll(async () => {
  api = await startTestServer()
})
afterAll(() => api.close())

async function search(filter: string): Promise<string[]> {
  const response = await api.gql(
    `query($search: String!) { users(filter: { search: $search }, first: 200) { edges { node { id } } } }`,
    { search: filter },
  )
  expect(response.errors).toBeUndefined()
  return response.data.users.edges.map((edge: any) => edge.node.id).sort()
}

test('co, sw and ew on a custom attribute match % and _ literally, not as wildcards', async () => {
  const tagged = async (code: string) => (await createUser(api, { profile: { custom: { code } } })).user.id as string
  const percent = await tagged('50%off')
  const underscore = await tagged('a_b')
  await tagged('plain')
  await tagged('axb')

  expect(await search('profile.code co "%"')).toEqual([percent])
  expect(await search('profile.code sw "50%"')).toEqual([percent])
  expect(await search('profile.code co "_"')).toEqual([underscore])
  expect(await search('profile.code ew "_b"')).toEqual([underscore])
})
