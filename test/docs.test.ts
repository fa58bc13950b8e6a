import fs from 'node:fs'
import path from 'node:path'
import { renderLifecycleMarkdown } from '../src/users/status-machine-doc'

const README = path.join(__dirname, '..', 'README.md')
const START = '<!-- lifecycle-table:start (generated from src/users/status-machine.ts by `npm run docs`) -->'
const END = '<!-- lifecycle-table:end -->'

// `npm run docs` rewrites the section (UPDATE_DOCS=1); otherwise a stale README fails.
test('the README lifecycle table is the status machine', () => {
  const readme = fs.readFileSync(README, 'utf8')
  const start = readme.indexOf(START)
  const end = readme.indexOf(END)
  expect(start).toBeGreaterThanOrEqual(0)
  expect(end).toBeGreaterThan(start)
  const current = readme.slice(start + START.length, end)
  const rendered = `\n${renderLifecycleMarkdown()}\n`
  if (process.env.UPDATE_DOCS === '1')
    fs.writeFileSync(README, readme.slice(0, start + START.length) + rendered + readme.slice(end))
  else expect(current).toBe(rendered)
})
