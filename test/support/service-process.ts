import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { adminQuery, templateLocation, uniqueDatabaseName, urlForDatabase, usingPostgres } from './backend'

const MAIN = path.join(__dirname, '../../src/main.ts')

/** The real entry point (`src/main.ts`, what `npm start` and `npm run token` run) as a child process. */
export interface ServiceProcess {
  child: ChildProcess
  /** Everything written to stdout and stderr so far. */
  output(): string
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>
  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>
}

export function runMain(args: string[], env: Record<string, string>): ServiceProcess {
  // Without Jest's NODE_ENV=test, which changes how libraries behave (Apollo installs its own signal handlers only outside tests).
  const { NODE_ENV: _test, ...parentEnv } = process.env
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...parentEnv, PORT: '0', RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const waiters = new Set<() => void>()
  const append = (chunk: Buffer) => {
    output += chunk
    for (const check of waiters) check()
  }
  child.stdout!.on('data', append)
  child.stderr!.on('data', append)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output)
        if (match) {
          waiters.delete(check)
          resolve(match)
        }
      }
      waiters.add(check)
      check()
      void exited.then((code) => {
        waiters.delete(check)
        reject(new Error(`exited with ${code} before printing ${pattern}:\n${output}`))
      })
    })
  return { child, output: () => output, exited, waitFor }
}

/** Starts the server and resolves once it serves, with its GraphQL URL. */
export async function startServer(env: Record<string, string>): Promise<ServiceProcess & { url: string }> {
  const service = runMain(['start'], env)
  const [, url] = await service.waitFor(/serving (http:\/\/\S+)/)
  return { ...service, url }
}

/** Starts `npm run worker`'s provisioning worker (no HTTP) and resolves once it runs. */
export async function startWorker(env: Record<string, string>): Promise<ServiceProcess> {
  const worker = runMain(['worker'], env)
  await worker.waitFor(/provisioning worker \S+ running/)
  return worker
}

/** A fresh database for child processes: an embedded data directory, or a PostgreSQL database when DATABASE_URL is set. */
export async function serviceDatabase(): Promise<{
  env: Record<string, string>
  dataDir?: string
  drop(): Promise<void>
}> {
  if (usingPostgres) {
    const name = uniqueDatabaseName('lg_process')
    await adminQuery(`CREATE DATABASE "${name}" TEMPLATE "${templateLocation()}"`)
    return {
      env: { DATABASE_URL: urlForDatabase(name) },
      drop: () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
    }
  }
  return embeddedDataDir()
}

/** A fresh embedded data directory (for tests about DATA_DIR itself, on either backend). */
export function embeddedDataDir(): { env: Record<string, string>; dataDir: string; drop(): Promise<void> } {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-process-'))
  return {
    env: { DATA_DIR: dataDir, DATABASE_URL: '' },
    dataDir,
    drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }),
  }
}

/** Sends a GraphQL request with a bearer token. */
export async function graphql(url: string, token: string, query: string, variables?: Record<string, unknown>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  })
  return { status: response.status, body: (await response.json()) as any }
}
