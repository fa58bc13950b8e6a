import { usingPostgres } from '../support/backend'
import { graphql, serviceDatabase, startServer, type ServiceProcess } from '../support/service-process'

// Servers on one PostgreSQL share each token's budget through the database: a client cannot get
// RATE_LIMIT_PER_MINUTE requests a minute from every process behind a load balancer.

const ADMIN = 'shared-budget-admin-token-0123456789abcdef'
const onPostgres = usingPostgres ? test : test.skip

let database: Awaited<ReturnType<typeof serviceDatabase>>
const processes: ServiceProcess[] = []
beforeEach(async () => {
  database = await serviceDatabase()
})
afterEach(async () => {
  for (const process of processes.splice(0)) {
    process.child.kill('SIGKILL')
    await process.exited
  }
  await database.drop()
})

async function server() {
  const started = await startServer({ ...database.env, BOOTSTRAP_ADMIN_TOKEN: ADMIN, RATE_LIMIT_PER_MINUTE: '5' })
  processes.push(started)
  return started
}

onPostgres(
  'a token that spent its budget on one server is refused on the other; other tokens are not',
  async () => {
    const [a, b] = [await server(), await server()]
    const issued = await graphql(
      a.url,
      ADMIN,
      `
        mutation {
          createApiToken(input: { name: "other", scopes: ["users:read"] }) {
            token
          }
        }
      `,
    )
    const other = issued.body.data.createApiToken.token as string
    for (let spent = 1; spent < 5; spent++)
      expect((await graphql(a.url, ADMIN, '{ viewer { tokenId } }')).status).toBe(200)

    const response = await fetch(b.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ query: '{ viewer { tokenId } }' }),
    })
    expect(response.status).toBe(429)
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(((await response.json()) as any).errors.map((error: any) => error.extensions.code)).toEqual(['RATE_LIMITED'])
    expect(await graphql(b.url, other, '{ viewer { scopes } }')).toEqual({
      status: 200,
      body: { data: { viewer: { scopes: ['users:read'] } } },
    })
  },
  120_000,
)
