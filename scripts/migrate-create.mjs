// Creates a new migration from the difference between prisma/schema.prisma and the
// migration history, like `prisma migrate dev --create-only`, without applying it anywhere.
//
//   npm run migrate:create -- <name> [--schema <file>] [--migrations <dir>]
//
// The Prisma CLI cannot do this here: every CLI command first downloads a native
// schema-engine binary, which these machines cannot fetch. Prisma's WebAssembly build of
// the same engine (@prisma/schema-engine-wasm, pinned to prisma's engine hash) runs the same
// migration logic in-process, given database driver adapters instead of connection URLs.
//
// The engine replays the history on throw-away databases and diffs the result against the
// schema. Without DATABASE_URL they are embedded PGlite databases (one in a temporary folder,
// the others in memory), so no database server is needed. With a postgresql:// DATABASE_URL
// they are created on that server and dropped afterwards. Nothing is ever applied to ./data
// or to the DATABASE_URL database: `npm run migrate` applies migrations.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const require = createRequire(import.meta.url)
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const USAGE = 'usage: npm run migrate:create -- <name> [--schema <file>] [--migrations <dir>]'
const NO_FILTER = { externalTables: [], externalEnums: [] }

// Whatever happens, the engine keeps a timer alive, so every path ends in process.exit.
// The throw-away databases are removed on every path too; whoever opens them sets this first.
let closeDatabases = async () => {}
process.on('unhandledRejection', (error) => fail(error))
// A promise from PGlite or the engine that can never settle lets Node exit with code 0 and no output.
process.on('beforeExit', () => fail(new Error('a database operation stopped without finishing')))
main().then(
  (code) => process.exit(code),
  (error) => fail(error),
)

async function fail(error) {
  console.error(`migrate:create failed: ${describe(error)}`)
  await closeOnce().catch(() => {})
  process.exit(1)
}

function closeOnce() {
  const close = closeDatabases
  closeDatabases = async () => {}
  return close()
}

async function main() {
  const { name, schemaPath, migrationsDir } = parseCommandLine()
  const schema = { files: [{ path: schemaPath, content: fs.readFileSync(schemaPath, 'utf8') }] }
  const databaseUrl = process.env.DATABASE_URL
  let engine
  try {
    const adapterFactory = /^postgres(ql)?:\/\//.test(databaseUrl ?? '')
      ? await serverDatabases(databaseUrl)
      : await embeddedDatabases()
    engine = await startEngine(schema, adapterFactory)
    const created = await createMigration(engine, schema, migrationsDir, name)
    if (created === null) {
      console.log('No schema changes: the migration history already matches the schema.')
    } else {
      const file = path.join(migrationsDir, created, 'migration.sql')
      const relative = path.relative(process.cwd(), file)
      console.log(`Created ${relative.startsWith('..') ? file : relative}`)
    }
    return 0
  } finally {
    engine?.free()
    await closeOnce()
  }
}

function parseCommandLine() {
  let parsed
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { schema: { type: 'string' }, migrations: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    })
  } catch (error) {
    throw new Error(`${error.message}\n${USAGE}`)
  }
  const { values, positionals } = parsed
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  if (positionals.length !== 1) throw new Error(`expected exactly one migration name\n${USAGE}`)
  // Prisma names the folder from the slug, so "Add user roles" and add_user_roles give the same folder.
  const name = slugify(positionals[0])
  if (!name) throw new Error(`the migration name "${positionals[0]}" has no letters or digits\n${USAGE}`)
  const schemaPath = path.resolve(values.schema ?? path.join(projectRoot, 'prisma', 'schema.prisma'))
  if (!fs.statSync(schemaPath, { throwIfNoEntry: false })?.isFile()) throw new Error(`no schema file at ${schemaPath}`)
  const migrationsDir = path.resolve(values.migrations ?? path.join(projectRoot, 'prisma', 'migrations'))
  return { name, schemaPath, migrationsDir }
}

// The slug `prisma migrate dev --name` makes (@sindresorhus/slugify with "_"), so a folder is
// named as the Prisma CLI would name it; only its transliteration of non-Latin letters is left out.
function slugify(text) {
  return text
    .replaceAll('&', ' and ')
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .normalize()
    .replace(/([A-Z]{2,})(\d+)/g, '$1 $2')
    .replace(/([a-z\d]+)([A-Z]{2,})/g, '$1 $2')
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-rt-z\d]+)/g, '$1 $2')
    .toLowerCase()
    .replace(/([a-z\d]+)'([ts])(\s|$)/g, '$1$2$3')
    .replace(/[^a-z\d]+/g, '_')
    .replace(/^_|_$/g, '')
    .slice(0, 200)
}

async function startEngine(schema, adapterFactory) {
  // Node 20 cannot import the package's main entry (it imports the .wasm file as an ES module),
  // so instantiate the WebAssembly module against its JavaScript glue by hand.
  const glue = await import('@prisma/schema-engine-wasm/schema_engine_bg')
  const wasmFile = path.join(
    path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')),
    'schema_engine_bg.wasm',
  )
  const instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(wasmFile)), {
    './schema_engine_bg.js': glue,
  })
  glue.__wbg_set_wasm(instance.exports)
  instance.exports.__wbindgen_start()
  // The binding must come from the same driver-adapter-utils release as the engine (7.10), which is
  // the one @prisma/adapter-pg depends on; pglite-prisma-adapter carries an older copy of its own.
  const utilsPath = createRequire(require.resolve('@prisma/adapter-pg')).resolve('@prisma/driver-adapter-utils')
  const { bindMigrationAwareSqlAdapterFactory } = require(utilsPath)
  const datamodels = schema.files.map((file) => [file.path, file.content])
  return glue.SchemaEngine.new({ datamodels }, () => {}, bindMigrationAwareSqlAdapterFactory(adapterFactory))
}

async function createMigration(engine, schema, migrationsDir, name) {
  const migrationsList = readMigrations(migrationsDir)
  // The wasm engine's createMigration cannot open a shadow database itself ("PostgreSQL shadow DB
  // must be provided through an external factory"); it only diffs against a replay of the history
  // that devDiagnostic cached, and devDiagnostic caches the migrations the dev database has
  // applied. So the throw-away dev database gets the whole history first. devDiagnostic also
  // replays the history on fresh shadow databases and rejects one that does not replay cleanly.
  await engine.applyMigrations({ migrationsList, filters: NO_FILTER })
  const diagnostic = await engine.devDiagnostic({ migrationsList, filters: NO_FILTER })
  if (diagnostic.action.tag === 'reset') {
    throw new Error(`the migration history does not replay the same way twice: ${diagnostic.action.reason.trim()}`)
  }
  const output = await engine.createMigration({
    draft: false,
    migrationName: name,
    migrationsList,
    schema,
    filters: NO_FILTER,
  })
  if (output.migrationScript === null) return null
  // Written as the Prisma CLI writes them, so `prisma migrate deploy` accepts the folder as is.
  const folder = path.join(migrationsDir, output.generatedMigrationName)
  if (fs.existsSync(folder)) throw new Error(`the migration folder already exists: ${folder}`)
  fs.mkdirSync(folder, { recursive: true })
  fs.writeFileSync(path.join(folder, `migration.${output.extension}`), output.migrationScript)
  fs.writeFileSync(
    path.join(migrationsDir, 'migration_lock.toml'),
    '# Please do not edit this file manually\n' +
      '# It should be added in your version-control system (e.g., Git)\n' +
      `provider = "${output.connectorType}"\n`,
  )
  return output.generatedMigrationName
}

// The engine cannot read the file system; it is handed the history the way the Prisma CLI reads it.
function readMigrations(migrationsDir) {
  const read = (file) => fs.readFileSync(file, 'utf8')
  const lockfile = path.join(migrationsDir, 'migration_lock.toml')
  const folders = fs.existsSync(migrationsDir)
    ? fs
        .readdirSync(migrationsDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name)
    : []
  folders.sort((a, b) => a.localeCompare(b))
  return {
    baseDir: migrationsDir,
    lockfile: { path: 'migration_lock.toml', content: fs.existsSync(lockfile) ? read(lockfile) : null },
    shadowDbInitScript: '',
    migrationDirectories: folders.map((folder) => {
      const file = path.join(migrationsDir, folder, 'migration.sql')
      let content
      try {
        content = { tag: 'ok', value: read(file) }
      } catch (error) {
        content = { tag: 'error', value: error.message }
      }
      return { path: folder, migrationFile: { path: 'migration.sql', content } }
    }),
  }
}

// Both kinds of databases below are throw-away: a "dev" database that receives the history,
// and shadow databases the engine replays it on. The engine calls connect() once.
async function embeddedDatabases() {
  const { PGlite } = await import('@electric-sql/pglite')
  const { PrismaPGlite } = await import('pglite-prisma-adapter')
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrate-create-'))
  const dev = new PGlite(tempDir)
  const open = [dev]
  closeDatabases = async () => {
    for (const db of open) if (!db.closed) await db.close().catch(() => {})
    fs.rmSync(tempDir, { recursive: true, force: true })
  }
  await dev.waitReady
  // Creating a PGlite database (its initdb) takes seconds; a copy of a fresh one, a fraction of that.
  const blank = await dev.dumpDataDir('none')
  const connect = async (db) => {
    const adapter = await new PrismaPGlite(db).connect()
    // pglite-prisma-adapter 0.7.2 does not await scripts: a migration that fails would count as
    // applied and its error would surface later, unhandled.
    adapter.executeScript = async (script) => {
      try {
        await db.exec(script)
      } catch (error) {
        adapter.onError(error)
      }
    }
    // Its dispose() leaves the database open.
    adapter.dispose = async () => {
      if (db !== dev && !db.closed) await db.close()
    }
    return adapter
  }
  return {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pglite',
    connect: () => connect(dev),
    connectToShadowDb: () => {
      const shadow = new PGlite({ loadDataDir: blank })
      open.push(shadow)
      return connect(shadow)
    },
  }
}

// The DATABASE_URL database is only where we create and drop the throw-away databases;
// its own tables are never read or written.
async function serverDatabases(databaseUrl) {
  const pg = (await import('pg')).default
  const { PrismaPg } = await import('@prisma/adapter-pg')
  const admin = new pg.Client({ connectionString: databaseUrl })
  await admin.connect().catch((error) => {
    throw new Error(`cannot connect to the DATABASE_URL server: ${error.message}`)
  })
  const created = []
  const pools = []
  closeDatabases = async () => {
    for (const pool of pools) if (!pool.ended) await pool.end().catch(() => {})
    try {
      for (const name of [...created]) await dropDatabase(name)
    } finally {
      await admin.end()
    }
  }
  const createDatabase = async (prefix) => {
    const name = `${prefix}_${randomUUID().replaceAll('-', '')}`
    await admin.query(`CREATE DATABASE "${name}"`)
    created.push(name)
    const url = new URL(databaseUrl)
    url.pathname = `/${name}`
    return { name, url: url.toString() }
  }
  const dropDatabase = async (name) => {
    if (!created.includes(name)) return
    await admin.query(`DROP DATABASE IF EXISTS "${name}"`)
    created.splice(created.indexOf(name), 1)
  }
  // adapter-pg's own connectToShadowDb cannot be used: with a connection string the URL's database
  // wins over the shadow name it sets, so it would replay the history on the DATABASE_URL
  // database; and it drops the shadow database while its pool still holds connections.
  const connect = async ({ name, url }) => {
    const pool = new pg.Pool({ connectionString: url, max: 2 })
    pools.push(pool)
    const adapter = await new PrismaPg(pool).connect()
    const performIO = adapter.performIO.bind(adapter)
    // The engine's catalog queries return "char" columns (OID 18, e.g. pg_constraint.contype),
    // which @prisma/adapter-pg 7.10 rejects as unsupported. Their text form is the value.
    adapter.performIO = async (query) => {
      const result = await performIO(query)
      for (const field of result.fields) if (field.dataTypeID === 18) field.dataTypeID = 25
      return result
    }
    // adapter-pg splits scripts on ";", which breaks a migration with a $$-quoted body and runs the
    // rest statement by statement. Sent whole without parameters, pg uses one simple query, which
    // PostgreSQL runs as one implicit transaction, as `psql -1` or `prisma migrate deploy` would.
    adapter.executeScript = async (script) => {
      try {
        await pool.query(script)
      } catch (error) {
        adapter.onError(error)
      }
    }
    adapter.dispose = async () => {
      if (!pool.ended) await pool.end()
      await dropDatabase(name)
    }
    return adapter
  }
  return {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: async () => connect(await createDatabase('migrate_create_dev')),
    connectToShadowDb: async () => connect(await createDatabase('prisma_migrate_shadow_db')),
  }
}

// Engine errors end in a Rust span trace ("   0: module::function ... at file.rs:113"); only the
// migration it names, if any, helps the reader.
function describe(error) {
  const lines = (error instanceof Error ? error.message : String(error)).split('\n')
  const traceStart = lines.findIndex((line) => /^\s*\d+: \w+(::\w+)+/.test(line))
  if (traceStart === -1) return lines.join('\n').trim()
  const trace = lines.slice(traceStart).join('\n')
  const message = lines
    .slice(0, traceStart)
    .filter((line) => line !== 'external connector error')
    .join('\n')
    .trim()
  const migration = /apply_script\s+with migration_name="([^"]+)"/.exec(trace)?.[1]
  return migration ? `migration ${migration} does not apply: ${message}` : message
}
