// Runs `prisma generate` without Prisma's native schema engine.
// Every Prisma CLI command first tries to download a native `schema-engine`, which this
// project cannot fetch offline. `generate` never runs that engine, so any executable
// placeholder satisfies the check; nothing else in the project calls the CLI.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import path from 'node:path'

const require = createRequire(import.meta.url)
const cli = path.join(path.dirname(require.resolve('prisma/package.json')), 'build', 'index.js')
const result = spawnSync(process.execPath, [cli, 'generate'], {
  stdio: 'inherit',
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: '/bin/true',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  },
})
process.exit(result.status ?? 1)
