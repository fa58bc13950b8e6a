import { openBrowser } from '../support/browser'
import { startTestServer } from '../support/harness'
import { createUser } from '../support/users'
jest.setTimeout(120_000)
test('scratch', async () => {
  const api = await startTestServer()
  const browser = await openBrowser()
  try {
    await createUser(api, { activate: true })
    const { page } = browser
    await page.goto(`${new URL(api.url).origin}/dashboard`)
    await page.getByLabel(/API token/).fill(api.adminToken)
    await page.getByRole('button', { name: 'Open dashboard' }).click()
    await page.getByText('Lifecycle events').waitFor()
    await new Promise((r) => setTimeout(r, 3000))
    console.log(await page.content())
    await browser.screenshot('scratch')
    console.log(browser.consoleErrors, browser.offsite)
  } finally {
    await browser.close()
    await api.close()
  }
})
