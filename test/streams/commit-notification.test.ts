import pg from 'pg'
import { appendEvents, EVENTS_COMMITTED_CHANNEL, SYSTEM_ACTOR, type EventDraft } from '../../src/events/event-log'
import { freshDatabase, usingPostgres, type TestDatabase } from '../support/backend'

// Relays learn of commits by NOTIFY: one per committing transaction (it is queued under a global lock at commit), not one per event.
const onPostgres = usingPostgres ? describe : describe.skip

onPostgres('the commit notification', () => {
  let database: TestDatabase
  let listener: pg.Client
  const payloads: string[] = []
  beforeAll(async () => {
    database = await freshDatabase()
    listener = new pg.Client({ connectionString: database.url })
    await listener.connect()
    listener.on('notification', (message) => payloads.push(message.payload ?? ''))
    await listener.query(`LISTEN ${EVENTS_COMMITTED_CHANNEL}`)
  })
  afterAll(async () => {
    await listener.end()
    await database.drop()
  })

  const draft = (index: number): EventDraft => ({
    type: 'user.lifecycle.activate',
    actor: SYSTEM_ACTOR,
    targets: [{ id: `user-${index}`, type: 'User', displayName: null }],
  })

  test('a transaction appending five events sends one notification, its payload the last sequence', async () => {
    const appended = await database.db.transaction((sql) => appendEvents(sql, [0, 1, 2, 3, 4].map(draft)))
    // A second transaction's notification arrives after the first one's (same connection, commit order).
    const next = await database.db.transaction((sql) => appendEvents(sql, [draft(5)]))
    await new Promise<void>((resolve) => {
      const check = () => (payloads.length >= 2 ? resolve() : setTimeout(check, 10))
      check()
    })
    expect(payloads).toEqual([String(appended.at(-1)!.sequence), String(next[0].sequence)])
  })
})
