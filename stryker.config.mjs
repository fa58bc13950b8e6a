// Mutation testing of the pure rules, the scope mechanism and the cascade table (`npm run mutate`, outside CI: it takes minutes).
// StrykerJS 9.6: version 10 needs Node 22.

/**
 * What is mutated, and the tests that must kill its mutants: add a module here (with the test
 * files that cover it) to put it under mutation testing. Only these test files run, so keep them
 * pure: a module-level (static) mutant reruns every listed test file, and a file that starts a
 * server and a database makes each such rerun cost half a minute (src/groups/rule-engine.ts,
 * covered only by test/groups/group-rules.test.ts, made a run take hours).
 */
const TARGETS = [
  { module: 'src/users/status-machine.ts', tests: ['test/users/status-machine.test.ts', 'test/docs.test.ts'] },
  { module: 'src/apps/app-user-rules.ts', tests: ['test/apps/app-user-rules.test.ts'] },
  { module: 'src/groups/rule-expression.ts', tests: ['test/groups/rule-expression.test.ts'] },
  { module: 'src/graphql/read-scopes.ts', tests: ['test/graphql/read-scopes.test.ts'] },
  { module: 'src/cascades/follow.ts', tests: ['test/cascades/follow.test.ts'] },
]

/**
 * `MUTATE=read-scopes,follow npm run mutate` mutates only the targets whose module file is named
 * (without `.ts`), to iterate on one module's tests in minutes; unset, every target runs.
 */
const selected = process.env.MUTATE?.split(',')
  .map((name) => name.trim())
  .filter(Boolean)
const nameOf = (target) => target.module.replace(/^.*\/|\.ts$/g, '')
const unknown = selected?.filter((name) => !TARGETS.some((target) => nameOf(target) === name)) ?? []
if (unknown.length > 0)
  throw new Error(`MUTATE names no target: ${unknown.join(', ')} (targets: ${TARGETS.map(nameOf).join(', ')})`)
const targets = selected ? TARGETS.filter((target) => selected.includes(nameOf(target))) : TARGETS

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  // The same node flags as `npm test`.
  testRunnerNodeArgs: ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning'],
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    config: {
      testMatch: [...new Set(targets.flatMap((target) => target.tests))].map((file) => `<rootDir>/${file}`),
      // Pure tests need no template database: skipping its migration saves ~10 s a run.
      globalSetup: null,
      globalTeardown: null,
    },
    enableFindRelatedTests: false,
  },
  mutate: targets.map((target) => target.module),
  coverageAnalysis: 'perTest',
  // The machine's 2 cores are shared.
  concurrency: 1,
  timeoutMS: 30_000,
  reporters: ['clear-text', 'progress', 'html'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  // Below 80% killed, `npm run mutate` fails.
  thresholds: { high: 90, low: 80, break: 80 },
  tempDirName: '.stryker-tmp',
}
