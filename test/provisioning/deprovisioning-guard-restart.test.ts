import { activeUser, appUserWhen, assign, provisionedApp, remote, unassign } from '../support/provisioning'
import { startScimServer, type ScimServer } from '../support/scim-server'
import { serviceDatabase, startServer, type ServiceProcess } from '../support/service-process'

// Held deactivations are rows: they outlive the process that held them (`npm start` as a child
// process, stopped and started again on the same data directory or database).

const ADMIN = 'guard-restart-admin-token-0123456789abcdef'

let scim: ScimServer
let database: Awaited<ReturnType<typeof serviceDatabase>>
const running: ServiceProcess[] = []

beforeAll(async () => {
  scim = await startScimServer()
  database = await serviceDatabase()
})
afterAll(async () => {
  for (const process of running.splice(0)) {
    process.child.kill('SIGKILL')
    await process.exited
  }
  await scim.close()
  await database.drop()
})

async function serve() {
  const server = await startServer({ ...database.env, BOOTSTRAP_ADMIN_TOKEN: ADMIN, PROVISIONING_POLL_MS: '100' })
  running.push(server)
  return { server, api: remote(server.url, ADMIN) }
}

async function stop(server: ServiceProcess) {
  server.child.kill('SIGTERM')
  await server.exited
  running.splice(running.indexOf(server), 1)
}

test('a held deactivation survives a restart, unsent, and is sent once released', async () => {
  const first = await serve()
  const app = await provisionedApp(first.api, scim)
  const guard = await first.api.gql(
    `mutation($input: UpdateProvisioningConnectionInput!) { updateProvisioningConnection(input: $input) { userErrors { code } } }`,
    { input: { appId: app.id, deprovisioningGuard: { maxCount: 1 } } },
  )
  expect(guard.data.updateProvisioningConnection.userErrors).toEqual([])
  const [sent, held] = [await activeUser(first.api), await activeUser(first.api)]
  for (const user of [sent, held]) await assign(first.api, app.id, user.id)
  const heldRow = await appUserWhen(first.api, app.id, held.id, (row) => row.syncState === 'SYNCHRONIZED')
  await appUserWhen(first.api, app.id, sent.id, (row) => row.syncState === 'SYNCHRONIZED')
  for (const user of [sent, held]) await unassign(first.api, app.id, user.id)
  await appUserWhen(
    first.api,
    app.id,
    sent.id,
    (row) => row.status === 'DEPROVISIONED' && row.syncState === 'SYNCHRONIZED',
  )
  await appUserWhen(first.api, app.id, held.id, (row) => row.syncState === 'HELD')
  await stop(first.server)

  const second = await serve()
  const holds = await second.api.gql(
    `query($appId: ID!) { provisioningHolds(appId: $appId) { totalCount edges { node { id syncState } } } }`,
    { appId: app.id },
  )
  expect(holds.data.provisioningHolds).toEqual({
    totalCount: 1,
    edges: [{ node: { id: heldRow.id, syncState: 'HELD' } }],
  })
  const path = `/scim/v2/Users/${heldRow.externalId}`
  expect(scim.requestCount('PATCH', path)).toBe(0)

  const released = await second.api.gql(
    `mutation($input: ReleaseProvisioningHoldInput!) { releaseProvisioningHold(input: $input) { released userErrors { code } } }`,
    { input: { appId: app.id } },
  )
  expect(released.data.releaseProvisioningHold).toEqual({ released: 1, userErrors: [] })
  await appUserWhen(
    second.api,
    app.id,
    held.id,
    (row) => row.status === 'DEPROVISIONED' && row.syncState === 'SYNCHRONIZED',
  )
  expect(scim.users().find((user) => user.id === heldRow.externalId)?.active).toBe(false)
  expect(scim.requestCount('PATCH', path)).toBe(1)
}, 300_000)
