import fs from 'node:fs'
import path from 'node:path'
import { createTopics } from '../src/events/topics'
import { createSchema, printSchemaFile } from '../src/graphql/schema'

const SCHEMA_FILE = path.join(__dirname, '..', 'schema.graphql')

// `npm run schema:emit` rewrites the file (UPDATE_SCHEMA=1); otherwise any drift fails.
test('the committed schema.graphql is exactly what the code emits', async () => {
  const emitted = printSchemaFile(await createSchema(createTopics()))
  if (process.env.UPDATE_SCHEMA === '1') fs.writeFileSync(SCHEMA_FILE, emitted)
  expect(fs.readFileSync(SCHEMA_FILE, 'utf8')).toBe(emitted)
})
