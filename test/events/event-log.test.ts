import { appendEvents, SYSTEM_ACTOR, type EventDraft } from '../../src/events/event-log'
import { inTransaction, type Store } from '../../src/store/transaction'
import { freshDatabase, type TestDatabase } from '../support/backend'
import { startTestServer, type TestServer } from '../support/harness'
import { createUser, lifecycle } from '../support/users'

describe('the event log', () => {
  let database: TestDatabase
  beforeAll(async () => {
    database = await freshDatabase()
  })
  afterAll(() => database.drop())
  /** These units record events only: no fact, so nothing to follow. */
  const store = (): Store => ({
    prisma: database.db.prisma,
    transaction: database.db.transaction,
    followFacts: async () => {},
  })

  // Any catalogued type: these tests are about sequences, not about what happened.
  const draft = (label: string): EventDraft => ({
    type: 'group.profile.update',
    actor: SYSTEM_ACTOR,
    targets: [],
    data: { label },
  })
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

  test('sequences follow commit order: an append that commits late still precedes any later append', async () => {
    const commits: string[] = []
    let appended!: () => void
    const slowHasAppended = new Promise<void>((resolve) => (appended = resolve))
    // The slow writer appends first, then its COMMIT is late (as if delayed on the way).
    const slow = database.db
      .transaction(async (sql) => {
        const [event] = await appendEvents({ query: sql.query, queryAndCommit: sql.query }, [draft('slow')])
        appended()
        await sleep(300)
        return event
      })
      .then((event) => (commits.push('slow'), event))
    await slowHasAppended
    const fast = inTransaction(store(), async (unit) => unit.record(draft('fast'))).then((result) => {
      commits.push('fast')
      return result.ok ? result.value.events[0] : undefined
    })
    const events = await Promise.all([slow, fast])
    const bySequence = events
      .sort((a, b) => Number(a!.sequence - b!.sequence))
      .map((event) => (event!.data as { label: string }).label)
    // Without the append lock the fast writer would commit first with the higher sequence,
    // and a reader resuming after it would never see the slow event.
    expect(commits).toEqual(['slow', 'fast'])
    expect(bySequence).toEqual(commits)
  })

  test('concurrent appends get distinct, increasing sequences', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        inTransaction(store(), async (unit) => {
          unit.record(draft(`parallel-${index}`), draft(`parallel-${index}-b`))
        }),
      ),
    )
    const sequences = results.flatMap((result) => (result.ok ? result.value.events.map((event) => event.sequence) : []))
    expect(new Set(sequences).size).toBe(40)
    for (const result of results) {
      if (!result.ok) throw new Error('append failed')
      const [a, b] = result.value.events
      expect(b.sequence).toBe(a.sequence + 1n) // one transaction's events are contiguous
    }
  })
})

describe('listing events through GraphQL', () => {
  let api: TestServer
  beforeAll(async () => {
    api = await startTestServer()
  })
  afterAll(() => api.close())

  test('events list oldest first and resume after a cursor without gaps or repeats', async () => {
    const { user } = await createUser(api, { password: 'correct horse battery' })
    await lifecycle(api, 'suspendUser', user.id)
    await lifecycle(api, 'unsuspendUser', user.id)
    const query = `query($after: String, $id: ID) { events(first: 2, after: $after, filter: { targetId: $id }) {
      totalCount edges { cursor node { sequence type cursor } } pageInfo { hasNextPage endCursor } } }`
    const seen: string[] = []
    let after: string | null = null
    for (;;) {
      const page: any = (await api.gql(query, { after, id: user.id })).data.events
      expect(page.totalCount).toBe(5)
      for (const edge of page.edges) {
        expect(edge.cursor).toBe(edge.node.cursor)
        seen.push(edge.node.type)
      }
      if (!page.pageInfo.hasNextPage) break
      after = page.pageInfo.endCursor
    }
    // Every new user joins the built-in Everyone group in the same transaction as its creation.
    expect(seen).toEqual([
      'user.lifecycle.create',
      'group.user_membership.add',
      'user.lifecycle.activate',
      'user.lifecycle.suspend',
      'user.lifecycle.unsuspend',
    ])
  })

  test('events filter by type and by a resume cursor in the filter', async () => {
    const { user } = await createUser(api, { password: 'correct horse battery' })
    const all = await api.gql(
      `query($id: ID) { events(filter: { targetId: $id }) { edges { cursor node { type } } } }`,
      { id: user.id },
    )
    const firstCursor = all.data.events.edges[0].cursor
    await lifecycle(api, 'suspendUser', user.id)
    const after = await api.gql(
      `query($id: ID, $after: String) { events(filter: { targetId: $id, after: $after }) { edges { node { type } } } }`,
      {
        id: user.id,
        after: firstCursor,
      },
    )
    expect(after.data.events.edges.map((edge: any) => edge.node.type)).toEqual([
      'group.user_membership.add',
      'user.lifecycle.activate',
      'user.lifecycle.suspend',
    ])
    const typed = await api.gql(
      `{ events(filter: { types: ["user.lifecycle.suspend"] }) { edges { node { type target { id } } } } }`,
    )
    expect(typed.data.events.edges.every((edge: any) => edge.node.type === 'user.lifecycle.suspend')).toBe(true)
    expect(typed.data.events.edges.map((edge: any) => edge.node.target.id)).toContain(user.id)
  })
})
