import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

// The script loads Prisma's WebAssembly schema engine, which leaves a timer running and must not
// live inside a Jest worker; so it runs as a child process, exactly as `npm run migrate:create` does.
const run = promisify(execFile)
const projectRoot = path.resolve(__dirname, '..', '..')
const script = path.join(projectRoot, 'scripts', 'migrate-create.mjs')
// The engine and PGlite's database creation take several seconds each run.
const SLOW = 60_000

let workDir: string
let schemaFile: string
let migrationsDir: string

beforeEach(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrate-create-test-'))
  schemaFile = path.join(workDir, 'schema.prisma')
  migrationsDir = path.join(workDir, 'migrations')
  fs.copyFileSync(path.join(projectRoot, 'prisma', 'schema.prisma'), schemaFile)
  fs.cpSync(path.join(projectRoot, 'prisma', 'migrations'), migrationsDir, { recursive: true })
})

afterEach(() => {
  fs.rmSync(workDir, { recursive: true, force: true })
})

function migrationFolders(): string[] {
  return fs
    .readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
}

async function migrateCreate(name: string): Promise<{ stdout: string; stderr: string }> {
  // Without DATABASE_URL the script uses embedded PGlite, as on a fresh machine.
  const env = { ...process.env }
  delete env.DATABASE_URL
  return run(process.execPath, [script, name, '--schema', schemaFile, '--migrations', migrationsDir], {
    cwd: workDir,
    env,
    timeout: SLOW - 5_000,
  })
}

test(
  'a schema change produces a new migration',
  async () => {
    fs.appendFileSync(schemaFile, '\nmodel AuditNote {\n  id   String @id\n  body String\n}\n')
    const before = migrationFolders()

    const { stdout } = await migrateCreate('add audit note')

    const added = migrationFolders().filter((folder) => !before.includes(folder))
    expect(added).toHaveLength(1)
    expect(added[0]).toMatch(/^\d{14}_add_audit_note$/)
    expect(stdout).toContain(added[0])
    const sql = fs.readFileSync(path.join(migrationsDir, added[0], 'migration.sql'), 'utf8')
    expect(sql).toContain('CREATE TABLE "AuditNote"')
    expect(sql).toContain('CONSTRAINT "AuditNote_pkey" PRIMARY KEY ("id")')
    // Only the new table: the existing history already covers everything else.
    expect(sql).not.toContain('CREATE TABLE "User"')
    expect(fs.readFileSync(path.join(migrationsDir, 'migration_lock.toml'), 'utf8')).toContain(
      'provider = "postgresql"',
    )
  },
  SLOW,
)

test(
  'an unchanged schema produces no migration',
  async () => {
    const before = migrationFolders()

    const { stdout } = await migrateCreate('nothing')

    expect(stdout).toContain('No schema changes')
    expect(migrationFolders()).toEqual(before)
  },
  SLOW,
)
