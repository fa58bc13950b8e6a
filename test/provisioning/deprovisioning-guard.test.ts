import { startTestServer, type TestServer } from '../support/harness'
import { activeUser, appUserWhen, assign, provisionedApp, unassign } from '../support/provisioning'
import { startScimServer, type ScimServer } from '../support/scim-server'
import { watch } from '../support/subscriptions'

// The blast-radius guard on deprovisioning (api.md "Provisioning operations", issue 13): deactivations
// past an app's threshold are held, not sent, until an administrator releases or discards them.

let api: TestServer
let scim: ScimServer
beforeAll(async () => {
  api = await startTestServer({}, { provisioning: { pollMs: 50, random: () => 0 } })
  scim = await startScimServer()
})
afterAll(async () => {
  await api.close()
  await scim.close()
})

const ERRORS = 'userErrors { code message field }'
const GUARD = 'provisioning { deprovisioningGuard { maxCount maxPercent windowMinutes } }'

async function setGuard(appId: string, deprovisioningGuard: Record<string, unknown>) {
  const response = await api.gql(
    `mutation($input: UpdateProvisioningConnectionInput!) {
      updateProvisioningConnection(input: $input) { app { ${GUARD} } ${ERRORS} } }`,
    { input: { appId, deprovisioningGuard } },
  )
  return response.data.updateProvisioningConnection
}

async function holds(appId: string) {
  const response = await api.gql(
    `query($appId: ID!) { provisioningHolds(appId: $appId, first: 50) { totalCount edges { node { id status syncState } } } }`,
    { appId },
  )
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  return response.data.provisioningHolds
}

async function settle(mutation: 'releaseProvisioningHold' | 'discardProvisioningHold', input: object) {
  const name = `${mutation[0].toUpperCase()}${mutation.slice(1)}Input`
  const count = mutation === 'releaseProvisioningHold' ? 'released' : 'discarded'
  const response = await api.gql(
    `mutation($input: ${name}!) { ${mutation}(input: $input) { app { id } ${count} ${ERRORS} } }`,
    { input },
  )
  if (response.errors) throw new Error(JSON.stringify(response.errors))
  return response.data[mutation]
}
const release = (appId: string, appUserIds?: string[]) => settle('releaseProvisioningHold', { appId, appUserIds })
const discard = (appId: string, appUserIds?: string[]) => settle('discardProvisioningHold', { appId, appUserIds })

async function eventsOf(targetId: string, type: string) {
  const response = await api.gql(
    `query($filter: EventFilter) { events(filter: $filter, first: 100) { edges { node { type data } } } }`,
    { filter: { targetId, types: [type] } },
  )
  return response.data.events.edges.map((edge: any) => edge.node)
}

/** The downstream account of an app user, as the SCIM server holds it. */
const account = (externalId: string) => scim.users().find((user) => user.id === externalId)!
/** Deactivations and reactivations sent for one downstream account. */
const patchesTo = (externalId: string) => scim.requestCount('PATCH', `/scim/v2/Users/${externalId}`)

/** An app on the SCIM server with `count` users provisioned downstream (PROVISIONED, SYNCHRONIZED). */
async function appWithProvisioned(count: number) {
  const app = await provisionedApp(api, scim)
  const members = []
  for (let i = 0; i < count; i++) {
    const user = await activeUser(api)
    await assign(api, app.id, user.id)
    members.push(user)
  }
  const appUsers = []
  for (const user of members) {
    const row = await appUserWhen(api, app.id, user.id, (found) => found.syncState === 'SYNCHRONIZED')
    appUsers.push({ user, appUser: row as { id: string; externalId: string } })
  }
  return { app, members: appUsers }
}

const settled = (appId: string, userId: string) =>
  appUserWhen(api, appId, userId, (row) => row.status === 'DEPROVISIONED' && row.syncState === 'SYNCHRONIZED')

describe('the guard settings', () => {
  test('an app starts with the defaults; fields given change, omitted ones stay, nulls turn a limit off', async () => {
    const app = await provisionedApp(api, scim)
    const read = await api.gql(`query($id: ID!) { app(id: $id) { ${GUARD} } }`, { id: app.id })
    expect(read.data.app.provisioning.deprovisioningGuard).toEqual({ maxCount: 500, maxPercent: 20, windowMinutes: 60 })

    expect(await setGuard(app.id, { maxCount: 3 })).toEqual({
      app: { provisioning: { deprovisioningGuard: { maxCount: 3, maxPercent: 20, windowMinutes: 60 } } },
      userErrors: [],
    })
    expect((await setGuard(app.id, { maxCount: null, maxPercent: null, windowMinutes: 5 })).app).toEqual({
      provisioning: { deprovisioningGuard: { maxCount: null, maxPercent: null, windowMinutes: 5 } },
    })
  })

  test('out-of-range values are VALIDATION errors that change nothing', async () => {
    const app = await provisionedApp(api, scim)
    for (const bad of [{ maxPercent: 101 }, { maxCount: -1 }, { windowMinutes: 0 }, { windowMinutes: null }]) {
      const result = await setGuard(app.id, bad)
      expect(result.app).toBeNull()
      expect(result.userErrors).toContainEqual(
        expect.objectContaining({ code: 'VALIDATION', field: ['deprovisioningGuard', Object.keys(bad)[0]] }),
      )
    }
    const read = await api.gql(`query($id: ID!) { app(id: $id) { ${GUARD} } }`, { id: app.id })
    expect(read.data.app.provisioning.deprovisioningGuard).toEqual({ maxCount: 500, maxPercent: 20, windowMinutes: 60 })
  })
})

describe('a trip', () => {
  test('past maxCount the deactivations are held, not sent, shown HELD in queries and live, with one trip event', async () => {
    const { app, members } = await appWithProvisioned(5)
    await setGuard(app.id, { maxCount: 3 })
    const watcher = watch(
      api.wsClient(),
      `subscription($filter: AppUserStatusChangedFilter) {
        appUserStatusChanged(filter: $filter) { previousSyncState syncState status appUser { id syncState } event { type } }
      }`,
      { filter: { appIds: [app.id] } },
    )
    // A probe: new assignments on the watched app until one is delivered (the subscription is live).
    await watcher.untilDelivered(async () => assign(api, app.id, (await activeUser(api)).id))

    for (const { user } of members) await unassign(api, app.id, user.id)

    const [sent, held] = [members.slice(0, 3), members.slice(3)]
    for (const { user, appUser } of sent) {
      await settled(app.id, user.id)
      expect(account(appUser.externalId).active).toBe(false)
    }
    for (const { user, appUser } of held) {
      expect(await appUserWhen(api, app.id, user.id, () => true)).toMatchObject({
        status: 'DEPROVISIONED',
        syncState: 'HELD',
      })
      expect(account(appUser.externalId).active).toBe(true)
      expect(patchesTo(appUser.externalId)).toBe(0)
    }
    expect(await holds(app.id)).toEqual({
      totalCount: 2,
      edges: held
        .map(({ appUser }) => appUser.id)
        .sort()
        .map((id) => ({ node: { id, status: 'DEPROVISIONED', syncState: 'HELD' } })),
    })
    for (const { appUser } of held) {
      const live = await watcher.until(
        (result) =>
          result.data.appUserStatusChanged.appUser.id === appUser.id &&
          result.data.appUserStatusChanged.syncState === 'HELD',
      )
      expect(live.data.appUserStatusChanged).toMatchObject({
        previousSyncState: 'SYNCHRONIZED',
        syncState: 'HELD',
        status: 'DEPROVISIONED',
        event: { type: 'application.user_membership.remove' },
      })
    }
    watcher.unsubscribe()
    // The fourth deactivation tripped the guard; the fifth joined the pending hold: one trip.
    expect(await eventsOf(app.id, 'application.provision.guard.trip')).toEqual([
      {
        type: 'application.provision.guard.trip',
        data: expect.objectContaining({
          appId: app.id,
          held: 1,
          passed: 0,
          inWindow: 3,
          maxCount: 3,
          maxPercent: 20,
          windowMinutes: 60,
        }),
      },
    ])
  })
})

describe('release and discard', () => {
  /** An app with maxCount 1 whose last `heldCount` of `heldCount + 1` deactivations are held. */
  async function tripped(heldCount: number) {
    const { app, members } = await appWithProvisioned(heldCount + 1)
    await setGuard(app.id, { maxCount: 1 })
    for (const { user } of members) await unassign(api, app.id, user.id)
    await settled(app.id, members[0].user.id)
    const held = members.slice(1)
    for (const { user } of held) await appUserWhen(api, app.id, user.id, (row) => row.syncState === 'HELD')
    return { app, held }
  }

  test('releasing one sends only its deactivation; releasing all sends the rest', async () => {
    const { app, held } = await tripped(3)
    const [first, ...rest] = held

    expect(await release(app.id, [first.appUser.id])).toEqual({ app: { id: app.id }, released: 1, userErrors: [] })
    await settled(app.id, first.user.id)
    expect(account(first.appUser.externalId).active).toBe(false)
    expect((await holds(app.id)).totalCount).toBe(2)
    for (const { appUser } of rest) expect(account(appUser.externalId).active).toBe(true)

    expect(await release(app.id)).toEqual({ app: { id: app.id }, released: 2, userErrors: [] })
    for (const { user, appUser } of rest) {
      await settled(app.id, user.id)
      expect(account(appUser.externalId).active).toBe(false)
      expect(patchesTo(appUser.externalId)).toBe(1)
    }
    expect((await holds(app.id)).totalCount).toBe(0)
    expect(await eventsOf(first.appUser.id, 'application.provision.guard.release')).toEqual([
      {
        type: 'application.provision.guard.release',
        data: expect.objectContaining({ previousSyncState: 'HELD', syncState: 'OUT_OF_SYNC', status: 'DEPROVISIONED' }),
      },
    ])
  })

  test('discarding cancels the deactivation: the account stays active, the app user DEPROVISIONED, OUT_OF_SYNC', async () => {
    const { app, held } = await tripped(2)
    const [first, second] = held

    expect(await discard(app.id, [first.appUser.id])).toEqual({ app: { id: app.id }, discarded: 1, userErrors: [] })
    expect(await appUserWhen(api, app.id, first.user.id, () => true)).toMatchObject({
      status: 'DEPROVISIONED',
      syncState: 'OUT_OF_SYNC',
    })
    expect((await holds(app.id)).edges).toEqual([{ node: expect.objectContaining({ id: second.appUser.id }) }])
    expect(await discard(app.id)).toMatchObject({ discarded: 1, userErrors: [] })
    expect((await holds(app.id)).totalCount).toBe(0)
    // Released work would run at once; the worker has nothing for a discarded one.
    const jobs = await api.database.db.prisma.provisioningJob.findMany({
      where: { appUserId: { in: [first.appUser.id, second.appUser.id] }, type: 'DEACTIVATE' },
    })
    expect(jobs).toEqual([])
    for (const { appUser } of held) {
      expect(account(appUser.externalId).active).toBe(true)
      expect(patchesTo(appUser.externalId)).toBe(0)
    }
    expect(await eventsOf(second.appUser.id, 'application.provision.guard.discard')).toHaveLength(1)
  })

  test('an id that is not held is a typed error that changes nothing; unknown apps and apps without provisioning are refused', async () => {
    const { app, held } = await tripped(1)
    const [heldOne] = held
    const stranger = await activeUser(api)
    const { id: assignedId } = await assign(api, app.id, stranger.id)

    for (const settleWith of [release, discard]) {
      const refused = await settleWith(app.id, [heldOne.appUser.id, assignedId, 'no-such-app-user'])
      expect(refused).toMatchObject({ app: null, userErrors: [{ code: 'INVALID_TRANSITION', field: ['appUserIds'] }] })
      expect(refused.userErrors[0].message).toContain('no-such-app-user')
      expect((await settleWith('no-such-app')).userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND' })])
    }
    expect((await holds(app.id)).totalCount).toBe(1)
    expect(await appUserWhen(api, app.id, heldOne.user.id, () => true)).toMatchObject({ syncState: 'HELD' })

    const plain = await api.gql(`mutation { createApp(input: { name: "sso", label: "SSO only" }) { app { id } } }`)
    const ssoOnly = plain.data.createApp.app.id
    expect((await release(ssoOnly)).userErrors).toEqual([expect.objectContaining({ code: 'PROVISIONING_NOT_ENABLED' })])
    const unknown = await api.gql(`{ provisioningHolds(appId: "no-such-app") { totalCount } }`)
    expect(unknown.errors?.[0].extensions?.code).toBe('NOT_FOUND')
  })

  test('reading holds needs apps:read; releasing and discarding need apps:manage', async () => {
    const app = await provisionedApp(api, scim)
    const reader = await api.tokenWith('apps:read')
    const outsider = await api.tokenWith('users:read')
    const query = `query($appId: ID!) { provisioningHolds(appId: $appId) { totalCount } }`
    expect((await api.gql(query, { appId: app.id }, reader)).data.provisioningHolds).toEqual({ totalCount: 0 })
    expect((await api.gql(query, { appId: app.id }, outsider)).errors?.[0].extensions?.code).toBe('FORBIDDEN')
    const mutation = `mutation($input: ReleaseProvisioningHoldInput!) { releaseProvisioningHold(input: $input) { released } }`
    const refused = await api.gql(mutation, { input: { appId: app.id } }, reader)
    expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN')
  })

  test('retryProvisioning of a held app user releases it', async () => {
    const { app, held } = await tripped(1)
    const [{ user, appUser }] = held
    const response = await api.gql(
      `mutation($input: RetryProvisioningInput!) { retryProvisioning(input: $input) { appUser { syncState } ${ERRORS} } }`,
      { input: { appId: app.id, userId: user.id } },
    )
    expect(response.data.retryProvisioning).toEqual({ appUser: { syncState: 'OUT_OF_SYNC' }, userErrors: [] })
    await settled(app.id, user.id)
    expect(account(appUser.externalId).active).toBe(false)
    expect(await eventsOf(appUser.id, 'application.provision.guard.release')).toHaveLength(1)
  })

  test('a held app user granted the app again drops its deactivation and is reactivated, never deactivated', async () => {
    const { app, held } = await tripped(1)
    const [{ user, appUser }] = held
    await assign(api, app.id, user.id)
    expect(await appUserWhen(api, app.id, user.id, (row) => row.syncState === 'SYNCHRONIZED')).toMatchObject({
      status: 'PROVISIONED',
      externalId: appUser.externalId,
    })
    expect((await holds(app.id)).totalCount).toBe(0)
    expect(account(appUser.externalId).active).toBe(true)
    // One PATCH: the reactivation (active=true); the held deactivation was never sent.
    expect(scim.bodies('PATCH', `/scim/v2/Users/${appUser.externalId}`)).toEqual([
      expect.objectContaining({ Operations: [{ op: 'replace', value: { active: true } }] }),
    ])
  })
})
