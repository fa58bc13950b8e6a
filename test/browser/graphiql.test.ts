// GraphiQL in real Chromium: the schema (docs, autocompletion) loads before any token is pasted,
// and a subscription run in it receives an event committed over HTTP.
import type { Page } from 'playwright-core'
import { openBrowser, type TestBrowser } from '../support/browser'
import { startTestServer, type TestServer } from '../support/harness'
import { createUser, lifecycle } from '../support/users'

jest.setTimeout(180_000)

let api: TestServer
let browser: TestBrowser
let origin: string

beforeAll(async () => {
  api = await startTestServer()
  origin = new URL(api.url).origin
  browser = await openBrowser()
})

afterAll(async () => {
  await browser?.close()
  await api?.close()
})

/** Replaces the whole text of the Monaco editor inside `container` (typed as one input, so no auto-closing). */
async function replaceEditorText(page: Page, container: string, text: string) {
  await page.locator(container).locator('.view-lines').click()
  await page.keyboard.press('ControlOrMeta+A')
  await page.keyboard.press('Delete')
  await page.keyboard.insertText(text)
}

test('the schema loads before a token is pasted: the docs list the root types and autocompletion knows fields', async () => {
  const { page } = browser
  await page.goto(`${origin}/graphiql`)
  await page.getByRole('button', { name: 'Show Documentation Explorer' }).click()
  await page.getByText('Root Types').waitFor()
  await page.locator('.graphiql-doc-explorer').getByText('Subscription', { exact: true }).waitFor()

  await replaceEditorText(page, '.graphiql-query-editor .monaco-editor', '{ use')
  await page.keyboard.press('Control+Space')
  await page.locator('.monaco-editor .suggest-widget').getByText('users', { exact: true }).waitFor()
  await browser.screenshot('graphiql-schema-without-token')
  expect(browser.offsite).toEqual([])
})

test('a subscription run in GraphiQL receives an event committed over HTTP', async () => {
  const { page } = browser
  const user = await createUser(api, { activate: true, password: 'Lifecycle-Gateway-2026!' })
  const before = await api.gql(`{ events(last: 1) { edges { node { cursor } } } }`)
  const cursor = before.data.events.edges[0].node.cursor

  await replaceEditorText(
    page,
    '.graphiql-editor-tool .monaco-editor[data-uri$="headers.json"]',
    JSON.stringify({ Authorization: `Bearer ${api.adminToken}` }),
  )
  // From the cursor on: the event arrives whether it commits before or after the subscription starts.
  const subscription = `subscription Feed { lifecycleEvents(filter: { after: "${cursor}" }) { type target { id } } }`
  await replaceEditorText(page, '.graphiql-query-editor', subscription)
  // GraphiQL reads an edit 100 ms later (debounced): it saves the text, then learns the operation is a
  // subscription. Executed before that, it sends the previous operation's kind: a query, over HTTP.
  await page.waitForFunction((text) => localStorage.getItem('graphiql:query') === text, subscription)
  await lifecycle(api, 'suspendUser', user.user.id)
  await page.getByRole('button', { name: /^Execute query/ }).click()

  const response = page.locator('.graphiql-response')
  await response.getByText('user.lifecycle.suspend').waitFor()
  await response.getByText(user.user.id).waitFor()
  await browser.screenshot('graphiql-subscription-event')
  expect(browser.offsite).toEqual([])
})
