import fs from 'node:fs'
import path from 'node:path'
import { adminQuery, templateLocation, usingPostgres } from './backend'

export default async function globalTeardown() {
  if (usingPostgres) await adminQuery(`DROP DATABASE IF EXISTS "${templateLocation()}" WITH (FORCE)`)
  else fs.rmSync(path.dirname(templateLocation()), { recursive: true, force: true })
}
