import 'reflect-metadata'
import { randomUUID } from 'node:crypto'
import { ApolloServer } from '@apollo/server'
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled'
import { execute, GraphQLError, parse, validate, type ExecutionResult } from 'graphql'
import { loadConfig } from '../../src/config'
import { SYSTEM_ACTOR } from '../../src/events/event-log'
import type { Context } from '../../src/graphql/context'
import { createLoaders } from '../../src/graphql/loaders'
import { createCompiledExecutor, compiledGateway } from '../../src/server/compiled-execution'
import { formatError } from '../../src/server/errors'
import { createLogger } from '../../src/logger'
import { queryLimitsPlugin } from '../../src/server/query-limits'
import type { Principal } from '../../src/tokens/scopes'
import { addMember, assignUser, createApp, createGroup } from '../support/directory'
import { startTestServer, type TestServer } from '../support/harness'
import { createUser } from '../support/users'

/**
 * The compiled executor (graphql-jit) against graphql-js on the real schema, resolvers and
 * database: first execute() against the executor directly, then two ApolloServers configured as
 * app.ts configures its own (formatError, query limits), one with `schema`, one with the gateway.
 */

let api: TestServer
let admin: Principal
let reader: Principal
let tokenManager: Principal
const ids: Record<string, string> = {}

beforeAll(async () => {
  api = await startTestServer()
  const principalOf = async (secret: string) => (await api.server.services.tokens.authenticate(secret))!
  admin = await principalOf(api.adminToken)
  reader = await principalOf(await api.tokenWith('users:read'))
  tokenManager = await principalOf(await api.tokenWith('tokens:manage'))

  const ada = (
    await createUser(api, { activate: true, password: 'correct horse battery', profile: { department: 'Engineering' } })
  ).user
  const grace = (await createUser(api, { activate: true, profile: { firstName: 'Grace', department: 'Sales' } })).user
  const staged = (await createUser(api, { profile: { firstName: 'Staged' } })).user
  const group = await createGroup(api)
  await addMember(api, group.id, ada.id)
  await addMember(api, group.id, grace.id)
  const app = await createApp(api)
  await assignUser(api, app.id, ada.id)
  Object.assign(ids, {
    ada: ada.id,
    adaLogin: ada.profile.login,
    grace: grace.id,
    staged: staged.id,
    group: group.id,
    app: app.id,
  })
})
afterAll(() => api.close())

type Caller = 'admin' | 'reader' | 'tokenManager' | 'anonymous'
type Side = 'js' | 'jit' | 'apollo-js' | 'apollo-jit'

interface Case {
  name: string
  query: string
  operationName?: string
  /** Variables for one side (mutations with side effects get a distinct but equivalent input per side). */
  variables?: (side: Side) => Record<string, unknown>
  as?: Caller
  /** Resolvers see loaders that throw: unexpected errors, masked by formatError. */
  brokenLoaders?: boolean
  /** Ids, timestamps and per-side logins replaced before comparing. */
  normalize?: boolean
}

let counter = 0
const loginFor = (side: Side) => `cmp-${side}-${++counter}@example.com`

const USER_LIST = `query Users($first: Int!, $groups: Int = 5) {
  users(first: $first) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { __typename id status created activated lastLogin credentials { hasPassword }
      profile { login email firstName lastName department displayName custom }
      groups(first: $groups) { totalCount edges { cursor node { __typename id name type } } }
      appUsers { totalCount edges { node { id status scope syncState app { id label status } user { id } } } } } }
  }
}`

const CASES: Case[] = [
  { name: 'users list with nested groups and appUsers', query: USER_LIST, variables: () => ({ first: 50 }) },
  {
    name: 'the bench read query',
    query: `{ users(first: 50) { totalCount edges { cursor node { id status profile { login email firstName lastName department } groups(first: 5) { edges { node { id name } } } } } } }`,
  },
  {
    name: 'user by id',
    query: `query($id: ID!) { user(id: $id) { id status profile { login } } }`,
    variables: () => ({ id: ids.ada }),
  },
  {
    name: 'user by login',
    query: `query($login: String!) { user(login: $login) { id profile { login firstName } } }`,
    variables: () => ({ login: ids.adaLogin }),
  },
  { name: 'unknown user is null', query: `{ user(id: "usr_00000000000000000000000000") { id } }` },
  {
    name: 'node and nodes with inline fragments and __typename',
    query: `query($id: ID!, $ids: [ID!]!) {
      node(id: $id) { __typename id ... on User { status profile { login } } }
      nodes(ids: $ids) { __typename id ... on Group { name } ... on App { label } ... on User { status } }
    }`,
    variables: () => ({
      id: ids.ada,
      ids: [ids.group, ids.app, ids.staged, 'usr_00000000000000000000000000', 'nope_1'],
    }),
  },
  {
    name: 'events with filters',
    query: `query($id: ID!, $types: [String!]) {
      all: events(first: 200) { totalCount edges { node { id sequence type } } }
      mine: events(filter: { targetId: $id, types: $types }, first: 10) { totalCount pageInfo { hasNextPage endCursor }
        edges { cursor node { id sequence cursor type published data actor { id type displayName } target { id type displayName } targets { id type } outcome { result reason } } } }
    }`,
    variables: () => ({
      id: ids.ada,
      types: ['user.lifecycle.create', 'user.lifecycle.activate', 'group.user_membership.add'],
    }),
  },
  {
    name: 'named fragments, aliases, variables, @skip/@include and __typename',
    query: `fragment Who on User { id profile { login } }
      fragment Page on UserConnection { totalCount edges { node { ...Who status } } }
      query Aliases($withGroups: Boolean!, $skipCount: Boolean!) {
        __typename
        first: users(first: 1) { ...Page }
        rest: users(first: 2, after: null) { __typename totalCount @skip(if: $skipCount) edges { node { ...Who groups @include(if: $withGroups) { totalCount } } } }
        me: viewer { name scopes }
      }`,
    variables: () => ({ withGroups: true, skipCount: true }),
  },
  {
    name: 'a document with two operations, run by name',
    query: `query One { users(first: 1) { totalCount } } query Two { groups(first: 3) { totalCount edges { node { id name } } } }`,
    operationName: 'Two',
  },
  {
    name: 'introspection',
    query: `{ __schema { queryType { name } types { name kind } } __type(name: "User") { name fields { name type { kind name ofType { name } } } } }`,
  },
  {
    name: 'a bad search filter is a VALIDATION error',
    query: `query($search: String) { users(filter: { search: $search }) { totalCount } }`,
    variables: () => ({ search: 'profile.login eq' }),
  },
  {
    name: 'a coded error on a nullable field (features without provisioning)',
    query: `query($id: ID!) { app(id: $id) { id label features { name } } }`,
    variables: () => ({ id: ids.app }),
  },
  { name: 'FORBIDDEN at the top level', query: `{ events { totalCount } }`, as: 'reader' },
  {
    name: 'FORBIDDEN on a non-null field bubbles to the nullable parent',
    query: `query($id: ID!) { user(id: $id) { id events { totalCount } } other: user(id: $id) { id } }`,
    variables: () => ({ id: ids.ada }),
    as: 'reader',
  },
  {
    name: 'FORBIDDEN inside node()',
    query: `query($id: ID!) { node(id: $id) { id } }`,
    variables: () => ({ id: ids.group }),
    as: 'reader',
  },
  { name: 'UNAUTHENTICATED without a principal', query: `{ users { totalCount } viewer { name } }`, as: 'anonymous' },
  {
    name: 'an unexpected error on a nullable field',
    query: `query($id: ID!) { user(id: $id) { id groups { totalCount } } }`,
    variables: () => ({ id: ids.ada }),
    brokenLoaders: true,
  },
  {
    name: 'unexpected errors bubbling to data: null',
    query: USER_LIST,
    variables: () => ({ first: 5 }),
    brokenLoaders: true,
  },
  {
    name: 'variables that do not coerce',
    query: `query($first: Int!) { users(first: $first) { totalCount } }`,
    variables: () => ({ first: 'ten' }),
  },
  { name: 'a missing required variable', query: `query($id: ID!) { user(id: $id) { id } }` },
  { name: 'an unknown operation name', query: `query One { viewer { name } }`, operationName: 'Other' },
  {
    name: 'createUser succeeds',
    query: `mutation Create($input: CreateUserInput!) { createUser(input: $input) { activationToken userErrors { code message field }
      user { __typename id status created lastUpdated profile { login email firstName lastName department } credentials { hasPassword } groups { totalCount edges { node { name } } } } } }`,
    variables: (side) => {
      const login = loginFor(side)
      return { input: { profile: { login, email: login, firstName: 'Compiled', lastName: 'Twin', department: 'QA' } } }
    },
    normalize: true,
  },
  {
    name: 'createUser with an invalid email is a VALIDATION userError',
    query: `mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } activationToken userErrors { code message field } } }`,
    variables: (side) => ({ input: { profile: { login: loginFor(side), email: 'not-an-email' } } }),
  },
  {
    name: 'suspending a STAGED user is INVALID_TRANSITION',
    query: `mutation($input: SuspendUserInput!) { suspendUser(input: $input) { user { id status } userErrors { code message field } } }`,
    variables: () => ({ input: { id: ids.staged } }),
  },
  {
    name: 'revoking an unknown token is NOT_FOUND',
    query: `mutation { revokeApiToken(input: { id: "tok_00000000000000000000000000" }) { apiToken { id } userErrors { code message field } } }`,
  },
  {
    name: 'two mutations run serially, one FORBIDDEN',
    query: `mutation($a: CreateUserInput!) { a: createUser(input: $a) { userErrors { code } user { profile { firstName } } } b: revokeApiToken(input: { id: "tok_00000000000000000000000000" }) { userErrors { code } } }`,
    variables: (side) => ({ a: { profile: { login: loginFor(side), email: 'x@example.com' } } }),
    as: 'reader',
  },
  {
    name: 'after a root mutation field fails to null, the next one does not run',
    query: `mutation($a: CreateUserInput!, $name: String!) { a: createUser(input: $a) { userErrors { code } }
      b: createApiToken(input: { name: $name, scopes: ["users:read"] }) { userErrors { code } } }`,
    variables: (side) => ({
      a: { profile: { login: loginFor(side), email: 'x@example.com' } },
      name: `serial-${side}`,
    }),
    as: 'tokenManager',
  },
]

const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '0' })

/** A context as app.ts's contextFor builds it (fresh loaders per operation). */
function contextFor(caller: Caller = 'admin', brokenLoaders = false): Context {
  const principal = { admin, reader, tokenManager, anonymous: null }[caller]
  const loaders = brokenLoaders
    ? (new Proxy(
        {},
        {
          get: () => {
            throw new Error('loader exploded')
          },
        },
      ) as Context['loaders'])
    : createLoaders(api.database.db.prisma, api.server.services.counters)
  return {
    principal,
    actor: principal ? { id: principal.tokenId, type: 'ApiToken', displayName: principal.name } : SYSTEM_ACTOR,
    db: api.database.db,
    config,
    services: api.server.services,
    loaders,
    pubSub: api.server.pubSub,
    streams: api.server.streams,
    requestId: randomUUID(),
  }
}

const ID_PATTERN = /^(usr|grp|rul|app|apu|tok|evt)_[0-9a-z]{26}$/
const SECRET = /^[a-z]{3}_[A-Za-z0-9_-]{43}$/
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

/** Replaces what differs between equivalent mutations: ids, times, one-time secrets, the per-side login. */
function normalized(value: unknown): unknown {
  if (typeof value === 'string') {
    if (ID_PATTERN.test(value)) return `<${value.slice(0, 3)} id>`
    if (TIMESTAMP.test(value)) return '<time>'
    if (SECRET.test(value)) return `<${value.slice(0, 3)} secret>`
    return value.replace(/cmp-[a-z-]+-\d+@/g, 'cmp-<side>@')
  }
  if (Array.isArray(value)) return value.map(normalized)
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, normalized(item)]))
  return value
}

/**
 * Everything of an execution result a client or formatError can see (errors as graphql-js builds
 * them). Not compared: an error's `nodes`/`source`/`positions` (the compiled path has only the
 * locations the compiler computed).
 */
function comparable(result: ExecutionResult, normalize = false) {
  const plain = JSON.parse(JSON.stringify({ data: result.data }))
  return {
    ...(normalize ? (normalized(plain) as object) : plain),
    errors: result.errors?.map((error) => {
      const cause = error.originalError as (Error & { extensions?: unknown }) | undefined
      return {
        isGraphQLError: error instanceof GraphQLError,
        message: error.message,
        path: error.path,
        locations: error.locations,
        extensions: error.extensions, // {} on graphql-js errors without a code, never undefined
        code: error.extensions?.code,
        cause: cause && { class: cause.constructor.name, message: cause.message, extensions: cause.extensions },
        json: error.toJSON(),
      }
    }),
  }
}

test('compiled execution gives the same results as graphql-js', async () => {
  const fallbacks: string[] = []
  const schema = api.server.schema
  const compiled = createCompiledExecutor(schema, { onFallback: ({ reason }) => void fallbacks.push(reason) })

  for (const testCase of CASES) {
    const document = parse(testCase.query)
    expect({ case: testCase.name, validation: validate(schema, document).map((error) => error.message) }).toEqual({
      case: testCase.name,
      validation: [],
    })
    const args = (side: Side) => ({
      document,
      operationName: testCase.operationName,
      variables: testCase.variables?.(side),
      contextValue: contextFor(testCase.as, testCase.brokenLoaders),
    })
    const js = args('js')
    const viaJs = await execute({ schema, ...js, variableValues: js.variables })
    const viaJit = await compiled({ ...args('jit'), query: testCase.query })
    expect({ case: testCase.name, ...comparable(viaJit, testCase.normalize) }).toEqual({
      case: testCase.name,
      ...comparable(viaJs, testCase.normalize),
    })
    // Queries once more, now from the compiled-document cache.
    if (!testCase.query.startsWith('mutation')) {
      const again = await compiled({ ...args('jit'), query: testCase.query })
      expect({ case: testCase.name, ...comparable(again) }).toEqual({ case: testCase.name, ...comparable(viaJs) })
    }
  }

  // The same side effects: the mutation field after the failed one ran on both paths or on neither.
  const tokensNamed = (name: string) => api.database.db.prisma.apiToken.count({ where: { name } })
  expect(await tokensNamed('serial-jit')).toBe(await tokensNamed('serial-js'))

  // Only the document graphql-jit cannot plan (an operation name it does not contain) fell back.
  expect(fallbacks).toEqual(['Unknown operation named "Other".'])
  const documents = new Set(CASES.map((testCase) => `${testCase.operationName}:${testCase.query}`)).size
  expect(compiled.stats()).toEqual({
    cached: documents,
    compiled: documents - 1,
    fallbacks: 1,
    bytes: expect.any(Number),
  })
})

test('through ApolloServer, the compiled gateway answers as the schema option does (formatError, limits, validation)', async () => {
  const schema = api.server.schema
  // What formatError logs as the cause of each masked (INTERNAL) error.
  const logged: Record<'apollo-js' | 'apollo-jit', string[]> = { 'apollo-js': [], 'apollo-jit': [] }
  const fallbacks: string[] = []
  const gateway = compiledGateway(schema, { onFallback: ({ reason }) => void fallbacks.push(reason) })
  const apolloWith = (side: 'apollo-js' | 'apollo-jit') => {
    const logger = createLogger('error', {
      write: (line: string) => void logged[side].push(JSON.parse(line).err?.message),
    })
    const common = {
      introspection: true,
      includeStacktraceInErrorResponses: false,
      formatError: formatError(logger),
      plugins: [
        ApolloServerPluginLandingPageDisabled(),
        ApolloServerPluginCacheControlDisabled(),
        queryLimitsPlugin({ maxDepth: 8, maxComplexity: 50_000 }),
      ],
    }
    return side === 'apollo-js'
      ? new ApolloServer<Context>({ schema, ...common })
      : new ApolloServer<Context>({ gateway, ...common })
  }
  const servers = { 'apollo-js': apolloWith('apollo-js'), 'apollo-jit': apolloWith('apollo-jit') }
  await Promise.all(Object.values(servers).map((server) => server.start()))
  try {
    const run = async (side: 'apollo-js' | 'apollo-jit', testCase: Case) => {
      const response = await servers[side].executeOperation(
        { query: testCase.query, variables: testCase.variables?.(side), operationName: testCase.operationName },
        { contextValue: contextFor(testCase.as, testCase.brokenLoaders) },
      )
      if (response.body.kind !== 'single') throw new Error('expected a single result')
      const body = JSON.parse(JSON.stringify(response.body.singleResult))
      return {
        case: testCase.name,
        status: response.http.status ?? 200,
        body: testCase.normalize ? normalized(body) : body,
      }
    }
    // Refused before execution: by the limits plugin's didResolveOperation, by validation, by parsing.
    const refused: (Case & { code: string })[] = [
      {
        name: 'too deep for the limits plugin',
        code: 'QUERY_TOO_COMPLEX',
        query: `{ users { edges { node { groups { edges { node { members { edges { node { groups { edges { node { id } } } } } } } } } } } } }`,
      },
      {
        name: 'too complex for the limits plugin',
        code: 'QUERY_TOO_COMPLEX',
        query: `{ users(first: 200) { edges { node { groups(first: 200) { totalCount edges { node { id } } } } } } }`,
      },
      { name: 'a field that does not exist (validation)', code: 'BAD_USER_INPUT', query: `{ users { nope } }` },
      { name: 'a syntax error', code: 'BAD_USER_INPUT', query: `{ users { ` },
    ]
    for (const testCase of [...CASES, ...refused]) {
      const [viaJs, viaJit] = [await run('apollo-js', testCase), await run('apollo-jit', testCase)]
      expect(viaJit).toEqual(viaJs)
    }
    for (const testCase of refused) {
      const response = await run('apollo-jit', testCase)
      expect({
        case: testCase.name,
        status: response.status,
        codes: (response.body as any).errors.map((error: any) => error.extensions.code),
        data: (response.body as any).data,
      }).toEqual({
        case: testCase.name,
        status: 400,
        codes: [testCase.code],
        data: undefined,
      })
    }
    // Everything that reached execution ran compiled, but the operation name the document lacks
    // (Apollo executes it anyway, to report graphql-js's error).
    expect(fallbacks).toEqual(['Unknown operation named "Other".'])
    expect(gateway.executor.stats().compiled).toBeGreaterThan(20)
    expect(logged['apollo-jit']).toEqual(logged['apollo-js'])
    expect(logged['apollo-js']).toContain('loader exploded')
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.stop()))
  }
})
