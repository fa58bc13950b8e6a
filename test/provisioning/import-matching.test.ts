import {
  accountOf,
  decidePage,
  lookupKeys,
  type Candidate,
  type DownstreamAccount,
  type MatchRules,
} from '../../src/provisioning/import-matching'

// The import's matching rules, cell by cell: one downstream account against the users it may match.

const rules = (overrides: Partial<MatchRules> = {}): MatchRules => ({
  exactMatchCriteria: 'USERNAME',
  allowPartialMatch: false,
  autoConfirmExactMatch: true,
  autoConfirmPartialMatch: true,
  autoConfirmNewUsers: true,
  autoActivateNewUsers: false,
  ...overrides,
})

const account: DownstreamAccount = {
  id: 'ext-1',
  userName: 'Ada@Example.com',
  email: 'ADA.WORK@example.com',
  firstName: 'Ada',
  lastName: 'Lovelace',
}

const candidate = (id: string, overrides: Partial<Candidate> = {}): Candidate => ({
  id,
  login: `${id}@example.com`,
  email: `${id}@example.com`,
  firstName: null,
  lastName: null,
  status: 'ACTIVE',
  linkedExternalId: null,
  ...overrides,
})

const byLogin = (id: string, overrides: Partial<Candidate> = {}) =>
  candidate(id, { login: 'ada@example.COM', ...overrides })
const byEmail = (id: string, overrides: Partial<Candidate> = {}) =>
  candidate(id, { email: 'ada.work@EXAMPLE.com', ...overrides })
const byName = (id: string, overrides: Partial<Candidate> = {}) =>
  candidate(id, { firstName: 'ADA', lastName: 'lovelace', ...overrides })

const decide = (candidates: Candidate[], rulesUsed: MatchRules, linked: string[] = []) => {
  const [decision] = decidePage([account], candidates, new Set(linked), rulesUsed)
  return [decision.action, decision.matchType, decision.userId]
}

test.each([
  ['already linked in the app', [byLogin('u1')], rules(), ['ext-1'], ['UNCHANGED', null, null]],
  ['USERNAME: the login, any case', [byLogin('u1')], rules(), [], ['MATCH', 'EXACT', 'u1']],
  [
    'USERNAME: an email match does not count',
    [byEmail('u1')],
    rules({ autoConfirmNewUsers: false }),
    [],
    ['UNMATCHED', null, null],
  ],
  ['EMAIL: the email, any case', [byEmail('u1')], rules({ exactMatchCriteria: 'EMAIL' }), [], ['MATCH', 'EXACT', 'u1']],
  [
    'EMAIL: a login match does not count (and its login is taken)',
    [byLogin('u1')],
    rules({ exactMatchCriteria: 'EMAIL' }),
    [],
    ['ERROR', null, null],
  ],
  [
    'exact, not auto-confirmed',
    [byLogin('u1')],
    rules({ autoConfirmExactMatch: false }),
    [],
    ['UNMATCHED', 'EXACT', 'u1'],
  ],
  [
    'two exact matches',
    [byEmail('u1'), byEmail('u2')],
    rules({ exactMatchCriteria: 'EMAIL' }),
    [],
    ['AMBIGUOUS', 'EXACT', null],
  ],
  [
    'the exact match is deactivated',
    [byLogin('u1', { status: 'DEPROVISIONED' })],
    rules(),
    [],
    ['ERROR', 'EXACT', 'u1'],
  ],
  [
    'the exact match is linked to another account',
    [byLogin('u1', { linkedExternalId: 'ext-9' })],
    rules(),
    [],
    ['ERROR', 'EXACT', 'u1'],
  ],
  [
    'a name match without allowPartialMatch',
    [byName('u1')],
    rules({ autoConfirmNewUsers: false }),
    [],
    ['UNMATCHED', null, null],
  ],
  [
    'a name match with allowPartialMatch',
    [byName('u1')],
    rules({ allowPartialMatch: true }),
    [],
    ['MATCH', 'PARTIAL', 'u1'],
  ],
  [
    'a partial match not auto-confirmed',
    [byName('u1')],
    rules({ allowPartialMatch: true, autoConfirmPartialMatch: false }),
    [],
    ['UNMATCHED', 'PARTIAL', 'u1'],
  ],
  [
    'two partial matches',
    [byName('u1'), byName('u2')],
    rules({ allowPartialMatch: true }),
    [],
    ['AMBIGUOUS', 'PARTIAL', null],
  ],
  [
    'an exact match wins over a partial one',
    [byName('u1'), byLogin('u2')],
    rules({ allowPartialMatch: true }),
    [],
    ['MATCH', 'EXACT', 'u2'],
  ],
  ['no match, new users confirmed', [], rules(), [], ['CREATE', null, null]],
  ['no match, new users not confirmed', [], rules({ autoConfirmNewUsers: false }), [], ['UNMATCHED', null, null]],
])('%s', (_, candidates, rulesUsed, linked, expected) => {
  expect(decide(candidates, rulesUsed, linked)).toEqual(expected)
})

test('a new user needs a usable email and login, as createUser does', () => {
  const [noEmail, longLogin] = decidePage(
    [
      { ...account, email: null },
      { ...account, id: 'ext-2', userName: `${'x'.repeat(101)}`, email: 'x@example.com' },
    ],
    [],
    new Set(),
    rules(),
  )
  expect(noEmail).toMatchObject({ action: 'ERROR', reason: expect.stringMatching(/email/) })
  expect(longLogin).toMatchObject({ action: 'ERROR', reason: expect.stringMatching(/userName/) })
})

test('within a page a user is linked to one account and a login is created once', () => {
  const twin = { ...account, id: 'ext-2' }
  expect(decidePage([account, twin], [byLogin('u1')], new Set(), rules()).map((d) => d.action)).toEqual([
    'MATCH',
    'ERROR',
  ])
  expect(decidePage([account, twin], [], new Set(), rules()).map((d) => d.action)).toEqual(['CREATE', 'ERROR'])
})

test('an account reads the primary email, else the work one, and the name parts', () => {
  const read = accountOf({
    id: 'x',
    userName: 'u',
    emails: [
      { value: 'home@example.com', type: 'home' },
      { value: 'work@example.com', type: 'work' },
    ],
    name: { givenName: 'Ada', familyName: 'Lovelace' },
  })
  expect(read).toEqual({ id: 'x', userName: 'u', email: 'work@example.com', firstName: 'Ada', lastName: 'Lovelace' })
  const primary = accountOf({
    id: 'y',
    userName: 'v',
    emails: [
      { value: 'work@example.com', type: 'work' },
      { value: 'main@example.com', primary: true },
    ],
  })
  expect(primary).toMatchObject({ email: 'main@example.com', firstName: null, lastName: null })
})

test('the candidate query looks for emails only by EMAIL and names only with partial matching', () => {
  expect(lookupKeys([account], rules())).toEqual({ logins: ['ada@example.com'], emails: [], names: [] })
  expect(lookupKeys([account], rules({ exactMatchCriteria: 'EMAIL', allowPartialMatch: true }))).toEqual({
    logins: ['ada@example.com'],
    emails: ['ada.work@example.com'],
    names: [{ firstName: 'ada', lastName: 'lovelace' }],
  })
})
