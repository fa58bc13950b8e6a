// The live dashboard in real Chromium: counts and the event feed follow mutations made over
// HTTP without a reload, and a cut WebSocket is announced and resumed from the last cursor,
// with an event committed while disconnected shown exactly once.
import type { Page } from 'playwright-core'
import { openBrowser, type TestBrowser } from '../support/browser'
import { startTestServer, type TestServer } from '../support/harness'
import { activeUser, appUserWhen, assign, provisionedApp, setCapabilities, unassign } from '../support/provisioning'
import { startScimServer, type ScimServer } from '../support/scim-server'
import { createUser, lifecycle } from '../support/users'

jest.setTimeout(180_000)

let api: TestServer
let scim: ScimServer
let browser: TestBrowser
let origin: string

beforeAll(async () => {
  api = await startTestServer({}, { provisioning: { pollMs: 50, random: () => 0 } })
  scim = await startScimServer()
  origin = new URL(api.url).origin
  browser = await openBrowser()
})

afterAll(async () => {
  await browser?.close()
  await scim?.close()
  await api?.close()
})

const PASSWORD = 'correct horse battery'

/** Waits until the element's text is exactly `text` (polling in the page, no sleeps). */
async function textBecomes(page: Page, selector: string, text: string) {
  await page.waitForFunction(([selector, text]) => document.querySelector(selector)?.textContent?.trim() === text, [
    selector,
    text,
  ] as const)
}

const userCount = (status: string) => `[data-testid="user-counts"] [data-status="${status}"] dd`
/** The feed's entries of this type about this target. */
const feedItems = (page: Page, targetId: string, type: string) =>
  page.locator(`[data-testid="feed"] li[data-type="${type}"][data-target="${targetId}"]`)

/** The sequences the feed shows, oldest first. */
const feedSequences = (page: Page) =>
  page.$$eval('[data-testid="feed"] li', (items) => items.map((item) => Number(item.dataset.sequence)).reverse())

async function storedSequences(after: number) {
  const response = await api.gql(`{ events(last: 200) { edges { node { sequence } } } }`)
  return response.data.events.edges
    .map((edge: any) => edge.node.sequence)
    .filter((sequence: number) => sequence > after)
}

test('asks for a token, then shows counts and events that follow HTTP mutations live', async () => {
  const { page } = browser
  const before = await createUser(api, { password: PASSWORD })
  await page.goto(`${origin}/dashboard`)
  await page.getByLabel(/API token/).fill(api.adminToken)
  await page.getByRole('button', { name: 'Open dashboard' }).click()

  await page.locator('[data-testid="link-status"][data-state="live"]').waitFor()
  await textBecomes(page, userCount('ACTIVE'), '1')
  await feedItems(page, before.user.id, 'user.lifecycle.activate').waitFor()
  expect(await page.evaluate(() => sessionStorage.getItem('lifecycle-gateway.dashboard.token'))).toBe(api.adminToken)

  const staged = await createUser(api, { activate: false })
  const suspended = await createUser(api, { password: PASSWORD })
  await lifecycle(api, 'suspendUser', suspended.user.id)

  await textBecomes(page, userCount('STAGED'), '1')
  await textBecomes(page, userCount('SUSPENDED'), '1')
  await textBecomes(page, userCount('ACTIVE'), '1')
  await feedItems(page, staged.user.id, 'user.lifecycle.create').waitFor()
  await feedItems(page, suspended.user.id, 'user.lifecycle.suspend').waitFor()
  await textBecomes(page, '[data-testid="sync-states"] tfoot [data-sync-state="ERROR"]', '0')
  expect(Number(await page.getAttribute('[data-testid="events-chart"]', 'data-total'))).toBeGreaterThanOrEqual(6)
  await browser.screenshot('dashboard-live')
  expect(browser.offsite).toEqual([])
})

test('a cut connection says reconnecting, then resumes from its cursor without a gap or a duplicate', async () => {
  const { page } = browser
  await page.locator('[data-testid="link-status"][data-state="live"]').waitFor()
  const firstShown = (await feedSequences(page))[0]

  // Offline, the page cannot reconnect: the event below commits while it is disconnected.
  await page.context().setOffline(true)
  expect(api.cutWebSockets()).toBeGreaterThan(0)
  await page.locator('[data-testid="link-status"][data-state="reconnecting"]').waitFor()
  expect(await page.getByTestId('link-status').textContent()).toMatch(/^Reconnecting/)
  const missed = await createUser(api, { activate: false })
  await browser.screenshot('dashboard-reconnecting')
  await page.context().setOffline(false)

  await page.locator('[data-testid="link-status"][data-state="live"]').waitFor()
  await feedItems(page, missed.user.id, 'user.lifecycle.create').waitFor()
  await textBecomes(page, userCount('STAGED'), '2')
  expect(await feedItems(page, missed.user.id, 'user.lifecycle.create').count()).toBe(1)
  expect(await feedSequences(page)).toEqual(await storedSequences(firstShown - 1))

  const after = await createUser(api, { activate: false })
  await feedItems(page, after.user.id, 'user.lifecycle.create').waitFor()
  expect(await feedSequences(page)).toEqual(await storedSequences(firstShown - 1))
  await browser.screenshot('dashboard-resumed')
  expect(browser.offsite).toEqual([])
  expect(browser.consoleErrors.filter((message) => !/WebSocket|ERR_INTERNET_DISCONNECTED/.test(message))).toEqual([])
})

test('a provisioning error is listed live, and its retry button re-queues it', async () => {
  const { page } = browser
  const app = await provisionedApp(api, scim, { create: false, profile: true, deactivate: true })
  const user = await activeUser(api)
  await assign(api, app.id, user.id)
  await appUserWhen(api, app.id, user.id, (row) => row.syncState === 'ERROR')

  const listed = page.locator('[data-testid="provisioning-errors"] li', { hasText: user.profile.login })
  await listed.getByText('user not found downstream').waitFor()
  await textBecomes(page, '[data-testid="sync-states"] tfoot [data-sync-state="ERROR"]', '1')
  await browser.screenshot('dashboard-provisioning-error')

  await setCapabilities(api, app.id, { create: true, profile: true, deactivate: true })
  await listed.getByRole('button', { name: 'Retry' }).click()
  await page.getByRole('alert').filter({ hasText: 'Retry: done.' }).waitFor()
  await listed.waitFor({ state: 'detached' })
  await textBecomes(page, '[data-testid="sync-states"] tfoot [data-sync-state="ERROR"]', '0')
  await textBecomes(page, '[data-testid="sync-states"] tfoot [data-sync-state="SYNCHRONIZED"]', '1')
  expect(browser.offsite).toEqual([])
})

test('held deprovisioning is listed live; one hold is released and another discarded from the page', async () => {
  const { page } = browser
  const app = await provisionedApp(api, scim)
  const members = [await activeUser(api), await activeUser(api), await activeUser(api)]
  for (const member of members) await assign(api, app.id, member.id)
  for (const member of members) await appUserWhen(api, app.id, member.id, (row) => row.syncState === 'SYNCHRONIZED')
  const guarded = await api.gql(
    `mutation($input: UpdateProvisioningConnectionInput!) { updateProvisioningConnection(input: $input) { userErrors { code } } }`,
    { input: { appId: app.id, deprovisioningGuard: { maxCount: 1 } } },
  )
  expect(guarded.data.updateProvisioningConnection.userErrors).toEqual([])
  for (const member of members) await unassign(api, app.id, member.id)
  const [released, discarded] = await Promise.all(
    members
      .slice(1)
      .map((member) => appUserWhen(api, app.id, member.id, (row) => row.syncState === 'HELD', 'id syncState')),
  )

  const held = (appUserId: string) => page.locator(`[data-testid="holds"] li[data-app-user="${appUserId}"]`)
  await held(released.id).waitFor()
  await held(discarded.id).waitFor()
  await textBecomes(page, '[data-testid="sync-states"] tfoot [data-sync-state="HELD"]', '2')
  await browser.screenshot('dashboard-held-deprovisioning')

  await held(released.id).getByRole('button', { name: 'Release', exact: true }).click()
  await held(released.id).waitFor({ state: 'detached' })
  await textBecomes(page, '[data-testid="sync-states"] tfoot [data-sync-state="HELD"]', '1')
  await held(discarded.id).getByRole('button', { name: 'Discard', exact: true }).click()
  await page.getByText('Nothing held.').waitFor()
  await textBecomes(page, '[data-testid="sync-states"] tfoot [data-sync-state="HELD"]', '0')
  await appUserWhen(
    api,
    app.id,
    members[2].id,
    (row) => row.syncState === 'OUT_OF_SYNC' && row.status === 'DEPROVISIONED',
  )
  expect(browser.offsite).toEqual([])
})
