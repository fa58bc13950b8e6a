import 'reflect-metadata'
import { createHash } from 'node:crypto'
import { parse, type GraphQLSchema } from 'graphql'
import { createTopics } from '../../src/events/topics'
import { createSchema } from '../../src/graphql/schema'
import { createCompiledExecutor } from '../../src/server/compiled-execution'
import { queryLimitsPlugin } from '../../src/server/query-limits'

/**
 * What anyone can make the server remember is bounded in bytes, not in entries: one huge entry
 * weighs as much as many small ones. Observed through each cache's size getter.
 */

let schema: GraphQLSchema
beforeAll(async () => {
  schema = await createSchema(createTopics())
})

/** A distinct document selecting `fields` aliased `__typename`s (compiles without a database). */
const typenames = (tag: string, fields: number) =>
  `{ ${Array.from({ length: fields }, (_, i) => `${tag}${i}: __typename`).join(' ')} }`

describe('the compiled-query cache', () => {
  test('keeps at most its byte budget however many distinct documents arrive, and still answers each', async () => {
    const budget = 100_000
    const executor = createCompiledExecutor(schema, { cacheBytes: budget })
    for (let i = 0; i < 40; i++) {
      const query = typenames(`d${i}_`, 10)
      const result = await executor({ document: parse(query), query, contextValue: {} })
      expect(result).toEqual({
        data: Object.fromEntries(Array.from({ length: 10 }, (_, j) => [`d${i}_${j}`, 'Query'])),
      })
      expect(executor.stats().bytes).toBeLessThanOrEqual(budget)
    }
    expect(executor.stats().cached).toBeLessThan(40)
    expect(executor.stats().cached).toBeGreaterThan(0)
  })

  test('a document heavier than the whole budget is answered and not kept', async () => {
    const executor = createCompiledExecutor(schema, { cacheBytes: 100_000 })
    const query = typenames('big', 100)
    const result = await executor({ document: parse(query), query, contextValue: {} })
    expect(Object.keys(result.data ?? {})).toHaveLength(100)
    expect(executor.stats()).toMatchObject({ cached: 0, bytes: 0 })
  })
})

describe('the query limits verdict cache', () => {
  const document = parse(`query($first: Int) { users(first: $first) { totalCount } }`)
  const resolve = async (plugin: ReturnType<typeof queryLimitsPlugin>, variables: Record<string, unknown>) => {
    const listener = await plugin.requestDidStart!({} as never)
    await listener!.didResolveOperation!({
      schema,
      document,
      request: { variables },
      operationName: null,
      queryHash: createHash('sha256').update('users').digest('hex'),
    } as never)
  }

  test('93 anonymous requests with 500 KB of variables each leave nothing behind', async () => {
    const plugin = queryLimitsPlugin({ maxDepth: 15, maxComplexity: 50_000 })
    for (let i = 0; i < 93; i++) await resolve(plugin, { first: 1, padding: `${i}${'x'.repeat(500 * 1024)}` })
    expect(plugin.cachedBytes()).toBe(0)
  })

  test('thousands of distinct small variables stay within 1 MB', async () => {
    const plugin = queryLimitsPlugin({ maxDepth: 15, maxComplexity: 50_000 })
    for (let i = 0; i < 5000; i++) await resolve(plugin, { first: 1, padding: `${i}${'x'.repeat(900)}` })
    expect(plugin.cachedBytes()).toBeGreaterThan(0)
    expect(plugin.cachedBytes()).toBeLessThanOrEqual(1024 * 1024)
  })
})
