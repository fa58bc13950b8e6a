import { ephemeralBox, isSealed } from '../../src/provisioning/secrets'
import { startTestServer, type TestServer } from '../support/harness'
import { startScimServer, type ScimServer } from '../support/scim-server'
import { appUserWhen, assign, pause, provisionedApp, resume, type Capabilities } from '../support/provisioning'
import { createUser, eventsFor } from '../support/users'

// Password push (update.password, domain.md 4.2): a user's new password reaches the downstream
// accounts of apps that sync the Okta password on change, sealed while it waits in the queue.
// Through the API, with the worker in the server's process and a real SCIM 2.0 server downstream.

const box = ephemeralBox()
let api: TestServer
let downstream: ScimServer[]

beforeAll(async () => {
  api = await startTestServer({}, { secrets: box, provisioning: { pollMs: 50, random: () => 0 } })
  downstream = await Promise.all([1, 2, 3, 4].map(() => startScimServer()))
})
afterAll(async () => {
  await api.close()
  await Promise.all(downstream.map((server) => server.close()))
})

const withPassword = (password: Capabilities['password']): Capabilities => ({
  create: true,
  profile: true,
  deactivate: true,
  password,
})
const SYNC_ON_CHANGE = withPassword({ status: 'ENABLED', seed: 'OKTA', change: 'CHANGE' })

async function mutate(name: string, input: Record<string, unknown>, fields = '') {
  const type = `${name[0].toUpperCase()}${name.slice(1)}Input`
  const response = await api.gql(
    `mutation($input: ${type}!) { ${name}(input: $input) { ${fields} userErrors { code message } } }`,
    { input },
  )
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  expect(response.data[name].userErrors).toEqual([])
  return response.data[name]
}

/** An administrator resets the password and the user completes the reset with `password`. */
async function resetTo(userId: string, password: string) {
  const { resetToken } = await mutate('resetPassword', { id: userId }, 'resetToken')
  await mutate('setPassword', { token: resetToken, password }, 'user { status }')
}

/** The passwords a SCIM client sent to one account with PATCH (a replace of `password`, with or without a path). */
function patchedPasswords(server: ScimServer, externalId: string): unknown[] {
  return server
    .bodies('PATCH', `/scim/v2/Users/${externalId}`)
    .flatMap((body) =>
      ((body as { Operations?: { path?: string; value?: any }[] }).Operations ?? []).flatMap((op) =>
        op.path?.toLowerCase() === 'password'
          ? [op.value]
          : op.value?.password !== undefined
            ? [op.value.password]
            : [],
      ),
    )
}

const jobsOf = (userId: string) =>
  api.database.db.prisma.provisioningJob.findMany({ where: { userId }, orderBy: { id: 'asc' } })

/** Every column of every row of a table, as text: where a stored password would show. */
async function tableText(table: 'LifecycleEvent' | 'ProvisioningAttempt' | 'ProvisioningJob') {
  const rows = await api.database.db.prisma.$queryRawUnsafe<unknown[]>(`SELECT * FROM "${table}"`)
  return JSON.stringify(rows, (_key, value) => (typeof value === 'bigint' ? String(value) : value))
}

test('a new password is pushed, sealed while queued, to apps syncing the Okta password on change; not to the others', async () => {
  const [syncing, keepsExisting, seedsRandom] = downstream
  const apps = {
    syncing: await provisionedApp(api, syncing, SYNC_ON_CHANGE),
    keepsExisting: await provisionedApp(
      api,
      keepsExisting,
      withPassword({ status: 'ENABLED', seed: 'OKTA', change: 'KEEP_EXISTING' }),
    ),
    seedsRandom: await provisionedApp(
      api,
      seedsRandom,
      withPassword({ status: 'ENABLED', seed: 'RANDOM', change: 'CHANGE' }),
    ),
  }
  const { user } = await createUser(api, { activate: true, password: 'First-passw0rd-1' })
  const provisioned: Record<string, any> = {}
  for (const [name, app] of Object.entries(apps)) {
    await assign(api, app.id, user.id)
    provisioned[name] = await appUserWhen(api, app.id, user.id, (row) => row.status === 'PROVISIONED')
  }

  // Paused, the app keeps the job queued: what waits in the queue is sealed.
  await pause(api, apps.syncing.id)
  const reset = 'Reset-passw0rd-2'
  await resetTo(user.id, reset)
  const queued = (await jobsOf(user.id)).filter((job) => job.type === 'PASSWORD')
  expect(queued).toHaveLength(1)
  expect(queued[0]).toMatchObject({ appId: apps.syncing.id, state: 'QUEUED' })
  expect(isSealed(queued[0].secret!)).toBe(true)
  expect(queued[0].secret).not.toContain(reset)
  expect(box.open(queued[0].secret!)).toBe(reset)
  expect(await tableText('ProvisioningJob')).not.toContain(reset)

  await resume(api, apps.syncing.id)
  const externalId = provisioned.syncing.externalId
  await appUserWhen(api, apps.syncing.id, user.id, () => patchedPasswords(syncing, externalId).length === 1)
  expect(patchedPasswords(syncing, externalId)).toEqual([reset])
  await appUserWhen(api, apps.syncing.id, user.id, (row) => row.syncState === 'SYNCHRONIZED')
  const pushed = (await eventsFor(api, provisioned.syncing.id)).filter(
    (event: any) => event.type === 'application.provision.user.push_password',
  )
  expect(pushed).toHaveLength(1)
  expect(pushed[0].data).toMatchObject({ operation: 'PASSWORD', httpStatus: expect.any(Number) })
  // Sent: the sealed secret is dropped.
  expect(await jobsOf(user.id)).toContainEqual(
    expect.objectContaining({ id: queued[0].id, state: 'SUCCEEDED', secret: null }),
  )

  // The user changes it themselves: pushed again, the latest one.
  const changed = 'Changed-passw0rd-3'
  await mutate(
    'changePassword',
    { login: user.profile.login, currentPassword: reset, newPassword: changed },
    'user { status }',
  )
  await appUserWhen(api, apps.syncing.id, user.id, () => patchedPasswords(syncing, externalId).length === 2)
  expect(patchedPasswords(syncing, externalId)).toEqual([reset, changed])

  // KEEP_EXISTING and the RANDOM seed push nothing on a change.
  expect(keepsExisting.requestCount('PATCH')).toBe(0)
  expect(seedsRandom.requestCount('PATCH')).toBe(0)
  const appsWithPasswordJobs = (await jobsOf(user.id)).filter((job) => job.type === 'PASSWORD').map((job) => job.appId)
  expect(new Set(appsWithPasswordJobs)).toEqual(new Set([apps.syncing.id]))

  // The clear password is in no event, no attempt and no job row.
  for (const table of ['LifecycleEvent', 'ProvisioningAttempt', 'ProvisioningJob'] as const) {
    const text = await tableText(table)
    for (const password of [reset, changed]) expect(text).not.toContain(password)
  }
  expect(await tableText('ProvisioningAttempt')).toContain('PASSWORD')
})

test('a user created with a password: the create sends a random one, then a PASSWORD job pushes theirs', async () => {
  const server = downstream[3]
  const app = await provisionedApp(api, server, SYNC_ON_CHANGE)
  // Everyone's app: a new user gets it in the transaction that creates them.
  await mutate('assignGroupToApp', { appId: app.id, groupId: 'grp_everyone' }, 'group { id }')
  const password = 'Created-passw0rd-4'
  const { user } = await createUser(api, { activate: true, password })

  const linked = await appUserWhen(api, app.id, user.id, (row) => row.status === 'PROVISIONED')
  await appUserWhen(api, app.id, user.id, () => patchedPasswords(server, linked.externalId).length === 1)
  expect(patchedPasswords(server, linked.externalId)).toEqual([password])
  const created = server.bodies('POST', '/scim/v2/Users') as { userName: string; password?: string }[]
  const ours = created.find((body) => body.userName === user.profile.login)!
  expect(ours.password).toEqual(expect.any(String))
  expect(ours.password).not.toBe(password)
  expect(await tableText('LifecycleEvent')).not.toContain(password)
})

test("an administrator's temporary password (expirePassword) is pushed too; expiring without one pushes nothing", async () => {
  const server = downstream[0]
  const app = await provisionedApp(api, server, SYNC_ON_CHANGE)
  const { user } = await createUser(api, { activate: true, password: 'Before-passw0rd-5' })
  await assign(api, app.id, user.id)
  const { externalId } = await appUserWhen(api, app.id, user.id, (row) => row.status === 'PROVISIONED')

  await mutate('expirePassword', { id: user.id }, 'tempPassword')
  const { tempPassword } = await mutate('expirePassword', { id: user.id, tempPassword: true }, 'tempPassword')
  await appUserWhen(api, app.id, user.id, () => patchedPasswords(server, externalId).length === 1)
  expect(patchedPasswords(server, externalId)).toEqual([tempPassword])
  // One push to this app (the earlier test gave Everyone another app, which pushes its own).
  const pushes = (await jobsOf(user.id)).filter((job) => job.type === 'PASSWORD' && job.appId === app.id)
  expect(pushes).toHaveLength(1)
})
