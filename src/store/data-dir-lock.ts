import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import lockfile from 'proper-lockfile'

// proper-lockfile's lock is a directory whose mtime the holder refreshes; one not refreshed for
// STALE_MS is taken over (its holder was killed). The holder file says who holds it, for the message.
const LOCK = 'lifecycle-gateway.lock'
const HOLDER = 'lifecycle-gateway.holder.json'
const STALE_MS = 10_000
const RETRY_MS = 500

interface Holder {
  pid: number
  hostname: string
  startedAt: string
}

/** Another process holds the data directory: the message names it and says what to do instead. */
export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError'
}

/**
 * Takes the exclusive lock on an embedded data directory and resolves with its release. A running
 * holder makes it refuse at once; the lock of one that no longer runs (it was killed) is waited
 * out until it goes stale, then taken over. `onLost` is called if another process takes the lock
 * over while it is held (only after this process stopped refreshing it for STALE_MS).
 */
export async function lockDataDir(dataDir: string, onLost: (error: Error) => void): Promise<() => Promise<void>> {
  const options = { lockfilePath: path.join(dataDir, LOCK), realpath: false, stale: STALE_MS, onCompromised: onLost }
  // A killed holder's lock goes stale at most STALE_MS after its last refresh.
  const waitUntil = Date.now() + STALE_MS + RETRY_MS
  let release: () => Promise<void>
  for (;;) {
    try {
      release = await lockfile.lock(dataDir, options)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error
      const holder = readHolder(dataDir)
      if ((holder && isRunning(holder)) || Date.now() > waitUntil)
        throw new DataDirLockedError(lockedMessage(dataDir, holder))
      await sleep(RETRY_MS)
    }
  }
  const holderFile = path.join(dataDir, HOLDER)
  const self: Holder = {
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
  }
  fs.writeFileSync(holderFile, JSON.stringify(self))
  let released = false
  return async () => {
    if (released) return
    released = true
    fs.rmSync(holderFile, { force: true })
    await release()
  }
}

function readHolder(dataDir: string): Holder | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, HOLDER), 'utf8')) as Holder
  } catch {
    return null // not written yet, or removed by a release in between
  }
}

/** Whether the holder still runs; a holder on another host counts as running (its pid says nothing here). */
function isRunning(holder: Holder): boolean {
  if (holder.hostname !== os.hostname()) return true
  try {
    process.kill(holder.pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function lockedMessage(dataDir: string, holder: Holder | null): string {
  const who = holder ? `process ${holder.pid} on ${holder.hostname}, started ${holder.startedAt}` : 'another process'
  return (
    `The embedded database in ${path.resolve(dataDir)} is in use by ${who}. ` +
    "Only one process may open an embedded data directory: use the running server's API instead " +
    '(tokens: the createApiToken and revokeApiToken mutations, e.g. in GraphiQL), ' +
    'or set DATABASE_URL to a PostgreSQL database to run several processes.'
  )
}
