// npm run bench -- <scenario> [...]: each scenario runs alone against its own fresh database.
// Without a scenario, runs every one that needs no PostgreSQL-only setup (crash only when named).
const SCENARIOS = {
  'assign-group': './directory.mjs',
  'activate-rule': './directory.mjs',
  read: './read.mjs',
  write: './write.mjs',
  crash: './crash.mjs',
  provision: './provision.mjs',
  'provision-slow': './provision.mjs',
  import: './import.mjs',
  plan: './plan.mjs',
  fanout: './fanout.mjs',
  'fanout-2p': './fanout.mjs',
}
const DEFAULT = ['assign-group', 'activate-rule', 'read', 'write', 'provision', 'plan']

const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('-'))
const names = requested.length ? requested : DEFAULT
for (const name of names) {
  if (!SCENARIOS[name]) {
    console.error(`unknown scenario ${name}; known: ${Object.keys(SCENARIOS).join(', ')}`)
    process.exit(2)
  }
  const scenario = await import(SCENARIOS[name])
  await scenario.run(name)
}
process.exit(0)
