// Real Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core
// (never a downloaded browser; .ci/run installs the package). A missing browser fails the
// test that needs it: nothing here skips.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARTIFACTS = path.resolve(__dirname, '..', 'artifacts')

/** stack.md's flags: headless, nothing phoning home (no updates, sync, QUIC probes or background fetches). */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export interface TestBrowser {
  page: Page
  /** Every URL the browser asked for (HTTP and WebSocket) whose host is not this machine. */
  offsite: string[]
  /** Errors the page threw or logged, for a failing test's message. */
  consoleErrors: string[]
  screenshot(name: string): Promise<string>
  close(): Promise<void>
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])
const isLocal = (url: string) => {
  const { protocol, hostname } = new URL(url)
  return ['data:', 'blob:', 'about:'].includes(protocol) || LOCAL_HOSTS.has(hostname)
}

/** A fresh Chromium profile (its own --user-data-dir) with one page. */
export async function openBrowser(): Promise<TestBrowser> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'lg-chromium-'))
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
    })
  } catch (error) {
    await rm(profile, { recursive: true, force: true })
    throw new Error(`Chromium did not start from ${CHROMIUM} (apt-get install -y chromium): ${error}`)
  }
  const offsite: string[] = []
  const consoleErrors: string[] = []
  context.on('request', (request) => void (isLocal(request.url()) || offsite.push(request.url())))
  const page = context.pages()[0] ?? (await context.newPage())
  page.on('websocket', (socket) => void (isLocal(socket.url()) || offsite.push(socket.url())))
  page.on('pageerror', (error) => void consoleErrors.push(error.message))
  page.on('console', (message) => void (message.type() === 'error' && consoleErrors.push(message.text())))
  return {
    page,
    offsite,
    consoleErrors,
    async screenshot(name) {
      await mkdir(ARTIFACTS, { recursive: true })
      const file = path.join(ARTIFACTS, `${name}.png`)
      await page.screenshot({ path: file, fullPage: true })
      return file
    },
    async close() {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    },
  }
}
