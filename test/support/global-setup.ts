import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { openDatabase } from '../../src/store/database'
import { adminQuery, setTemplateLocation, uniqueDatabaseName, urlForDatabase, usingPostgres } from './backend'

/** Migrates the run's template database once; test files clone it. */
export default async function globalSetup() {
  // Tests run where local time is not UTC (workers inherit it), so a timestamp read or written
  // as local time anywhere shows up as a failure instead of passing on a UTC machine.
  process.env.TZ ??= 'America/New_York'
  if (usingPostgres) {
    // Fails the run (never skips) when DATABASE_URL points at an unreachable server.
    const name = uniqueDatabaseName('lg_template')
    await adminQuery(`CREATE DATABASE "${name}"`)
    const db = await openDatabase({ kind: 'postgres', url: urlForDatabase(name), poolSize: 1 })
    await db.migrate()
    await db.close()
    setTemplateLocation(name)
    return
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-test-'))
  const instance = new PGlite()
  const db = await openDatabase({ kind: 'embedded', instance })
  await db.migrate()
  const dump = await instance.dumpDataDir('none')
  const file = path.join(dir, 'template.tar')
  fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()))
  await db.close()
  setTemplateLocation(file)
}
