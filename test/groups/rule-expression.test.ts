import { evaluateRule, parseRuleExpression, ruleProfile, RuleSyntaxError } from '../../src/groups/rule-expression'

/** Group-rule expressions (a subset of Okta EL) parsed and evaluated without a database. */
const subject = (profile: Record<string, unknown> = {}, groupIds: string[] = []) => ({
  profile: {
    department: 'Engineering',
    title: null,
    email: 'ada@example.com',
    custom: { costCenter: 'C1', isManager: true },
    ...profile,
  },
  groupIds: new Set(groupIds),
})
const matches = (expression: string, ...args: Parameters<typeof subject>) =>
  evaluateRule(parseRuleExpression(expression), subject(...args))

function syntaxError(expression: string): RuleSyntaxError {
  try {
    parseRuleExpression(expression)
  } catch (error) {
    if (error instanceof RuleSyntaxError) return error
    throw error
  }
  throw new Error(`${expression} parsed`)
}

describe('parsing', () => {
  test('a rule reports the profile attributes it reads and the groups it names, once each', () => {
    const parsed = parseRuleExpression(
      'user.department == "Engineering" && (isMemberOfGroup("grp_a") || String.startsWith(user.costCenter, "C")) && user.department != user.title && isMemberOfGroup("grp_a")',
    )
    expect(parsed.attributes.sort()).toEqual(['costCenter', 'department', 'title'])
    expect(parsed.groupIds).toEqual(['grp_a'])
  })

  test.each([
    'user.department == "x"',
    'user.department != "x"',
    'user.a == "x" && user.b == "y"',
    'user.a == "x" AND user.b == "y"',
    'user.a == "x" || user.b == "y"',
    'user.a == "x" OR user.b == "y"',
    '!(user.a == "x")',
    'isMemberOfGroup("grp_a")',
    'isMemberOfAnyGroup("grp_a", "grp_b")',
    'Arrays.contains(user.tags, "x") && !Arrays.isEmpty(user.tags)',
    'String.stringContains(user.email, "@")',
    'true',
    'false',
    'user.title == null',
  ])('%s is a valid rule', (expression) => {
    expect(() => parseRuleExpression(expression)).not.toThrow()
  })

  test('a syntax error carries the parser message and the position', () => {
    const error = syntaxError('user.department ==')
    expect(error.message).toBe('Expected expression after == at character 18')
    expect(error.position).toBe(18)
  })

  test.each(['+', '-', '*', '/', '%', '|', '^', '&', '<<', '>>', '>>>', '<', '>', '<=', '>=', '===', '!==', '??'])(
    'the binary operator %s is not part of the language',
    (operator) => {
      const error = syntaxError(`user.a ${operator} "b"`)
      expect(error.position).toBeGreaterThan(0)
    },
  )

  test.each(['-', '+', '~'])('the unary operator %s is not part of the language', (operator) => {
    expect(syntaxError(`${operator}user.a == "b"`)).toBeInstanceOf(RuleSyntaxError)
  })

  test.each([
    ['user.level == 3', 'only string and boolean literals are allowed, not 3'],
    ['isMemberOfGroup(1)', 'isMemberOfGroup takes one group id as string literals'],
    ['isMemberOfGroup(user.group)', 'isMemberOfGroup takes one group id as string literals'],
    ['isMemberOfGroup("a", "b")', 'isMemberOfGroup takes one group id as string literals'],
    ['isMemberOfAnyGroup()', 'isMemberOfAnyGroup takes group ids as string literals'],
    ['isMemberOfAnyGroup("a", user.group)', 'isMemberOfAnyGroup takes group ids as string literals'],
    ['Arrays.contains(user.tags)', 'Arrays.contains takes 2 argument(s)'],
    ['Arrays.isEmpty(person.tags)', 'attributes are written user.<attribute>'],
    ['Arrays.toString(user.tags)', 'unknown function Arrays.toString'],
    ['user.a == "x" and user.b == "y"', 'conditions are combined with && or AND, || or OR'],
    ['String.startsWith(user.email)', 'String.startsWith takes two arguments'],
    ['String.endsWith(user.email, "a", "b")', 'String.endsWith takes two arguments'],
    ['String.matches(user.email, "a")', 'unknown function String.matches'],
    ['Custom.startsWith(user.email, "a")', 'unknown function Custom.startsWith'],
    ['hasRole("admin")', 'unknown function hasRole'],
    ['user.a.b() == "x"', 'unsupported function call'],
    ['hasRole()("admin")', 'unsupported function call'],
    ['user["department"] == "x"', 'attributes are written user.<attribute>'],
    ['user[department] == "x"', 'attributes are written user.<attribute>'],
    ['person.department == "x"', 'attributes are written user.<attribute>'],
    ['user.profile.department == "x"', 'attributes are written user.<attribute>'],
    ['user.department', 'the expression must evaluate to a boolean (use == to compare)'],
    ['"Engineering"', 'the expression must evaluate to a boolean (use == to compare)'],
    ['department == "x"', 'unsupported expression: Identifier'],
    ['user.a == "x" ? true : false', 'unsupported expression: ConditionalExpression'],
  ])('%s is refused: %s', (expression, message) => {
    const error = syntaxError(expression)
    expect(error.message).toBe(message)
    expect(error.position).toBe(0)
  })

  test('a String function checks the attributes it is given', () => {
    expect(syntaxError('String.startsWith(person.email, "a")').message).toBe('attributes are written user.<attribute>')
    expect(parseRuleExpression('String.startsWith(user.email, user.department)').attributes.sort()).toEqual([
      'department',
      'email',
    ])
  })

  test('both sides of a comparison and the argument of ! are checked', () => {
    expect(syntaxError('"x" == person.a').message).toBe('attributes are written user.<attribute>')
    expect(syntaxError('person.a == "x"').message).toBe('attributes are written user.<attribute>')
    expect(syntaxError('!(person.a == "x")').message).toBe('attributes are written user.<attribute>')
  })
})

describe('evaluation', () => {
  test('== and != compare attribute values exactly', () => {
    expect(matches('user.department == "Engineering"')).toBe(true)
    expect(matches('user.department == "engineering"')).toBe(false)
    expect(matches('user.department != "Engineering"')).toBe(false)
    expect(matches('user.department != "Sales"')).toBe(true)
  })

  test('a missing attribute is null', () => {
    expect(matches('user.title == null')).toBe(true)
    expect(matches('user.nickname == null')).toBe(true)
    expect(matches('user.department == null')).toBe(false)
    expect(matches('user.nickname == null', { custom: undefined })).toBe(true)
  })

  test('custom attributes are read from profile.custom; known ones from the profile itself', () => {
    expect(matches('user.costCenter == "C1"')).toBe(true)
    expect(matches('user.department == "Engineering"', { custom: { department: 'Sales' } })).toBe(true)
    expect(matches('user.department == "Sales"', { custom: { department: 'Sales' } })).toBe(false)
  })

  test('and/or follow boolean logic in both spellings', () => {
    for (const [and, or] of [
      ['&&', '||'],
      ['AND', 'OR'],
    ]) {
      expect(matches(`user.department == "Engineering" ${and} user.costCenter == "C1"`)).toBe(true)
      expect(matches(`user.department == "Engineering" ${and} user.costCenter == "C2"`)).toBe(false)
      expect(matches(`user.department == "Sales" ${and} user.costCenter == "C1"`)).toBe(false)
      expect(matches(`user.department == "Sales" ${or} user.costCenter == "C1"`)).toBe(true)
      expect(matches(`user.department == "Engineering" ${or} user.costCenter == "C2"`)).toBe(true)
      expect(matches(`user.department == "Engineering" ${or} user.costCenter == "C1"`)).toBe(true)
      expect(matches(`user.department == "Sales" ${or} user.costCenter == "C2"`)).toBe(false)
    }
  })

  test('AND binds tighter than OR', () => {
    expect(matches('true OR false AND false')).toBe(true)
    expect(matches('false AND false OR true')).toBe(true)
    expect(matches('false OR true AND false')).toBe(false)
  })

  test('only the boolean true counts as true: a non-empty string is not', () => {
    expect(matches('user.isManager && true')).toBe(true)
    expect(matches('user.department && true')).toBe(false)
    expect(matches('user.department || false')).toBe(false)
    expect(matches('!(user.department == "Sales")')).toBe(true)
    expect(matches('!(user.department == "Engineering")')).toBe(false)
    expect(matches('true')).toBe(true)
    expect(matches('false')).toBe(false)
  })

  test("isMemberOfGroup reads the subject's groups", () => {
    expect(matches('isMemberOfGroup("grp_a")', {}, ['grp_a', 'grp_b'])).toBe(true)
    expect(matches('isMemberOfGroup("grp_c")', {}, ['grp_a', 'grp_b'])).toBe(false)
  })

  test.each([
    ['String.stringContains(user.email, "@example")', true],
    ['String.stringContains(user.email, "@other")', false],
    ['String.startsWith(user.email, "ada")', true],
    ['String.startsWith(user.email, "example")', false],
    ['String.endsWith(user.email, ".com")', true],
    ['String.endsWith(user.email, "ada")', false],
    ['String.startsWith(user.title, "a")', false],
    ['String.startsWith("ada", user.title)', false],
    ['String.startsWith(user.email, user.email)', true],
  ])('%s is %s', (expression, expected) => {
    expect(matches(expression)).toBe(expected)
  })

  test('isMemberOfAnyGroup is true for a member of any of the groups it names', () => {
    expect(matches('isMemberOfAnyGroup("grp_x", "grp_b")', {}, ['grp_a', 'grp_b'])).toBe(true)
    expect(matches('isMemberOfAnyGroup("grp_x", "grp_y")', {}, ['grp_a', 'grp_b'])).toBe(false)
    expect(parseRuleExpression('isMemberOfAnyGroup("grp_x", "grp_y")').groupIds).toEqual(['grp_x', 'grp_y'])
  })

  test.each([
    ['Arrays.contains(user.tags, "blue")', { custom: { tags: ['red', 'blue'] } }, true],
    ['Arrays.contains(user.tags, "green")', { custom: { tags: ['red', 'blue'] } }, false],
    ['Arrays.contains(user.tags, "blue")', { custom: { tags: 'blue' } }, false],
    ['Arrays.contains(user.tags, user.department)', { custom: { tags: ['Engineering'] } }, true],
    ['Arrays.contains(user.tags, user.title)', { custom: { tags: [null] } }, false],
    ['Arrays.isEmpty(user.tags)', { custom: { tags: [] } }, true],
    ['Arrays.isEmpty(user.tags)', { custom: {} }, true],
    ['!Arrays.isEmpty(user.tags)', { custom: { tags: ['red'] } }, true],
  ])('%s on %j is %s', (expression, profile, expected) => {
    expect(matches(expression, profile)).toBe(expected)
  })

  test('a String function with a missing attribute as its argument is false, never a match on "null"', () => {
    expect(matches('String.stringContains(user.email, user.title)', { email: 'null@example.com' })).toBe(false)
    expect(matches('String.startsWith(user.title, user.email)', { email: 'null' })).toBe(false)
  })
})

test('ruleProfile keeps the profile columns and custom attributes, nothing else', () => {
  const profile = ruleProfile({
    id: 'usr_1',
    status: 'ACTIVE',
    passwordHash: 'secret',
    login: 'ada@example.com',
    department: 'Engineering',
    custom: { costCenter: 'C1' },
  })
  expect(profile.login).toBe('ada@example.com')
  expect(profile.department).toBe('Engineering')
  expect(profile.custom).toEqual({ costCenter: 'C1' })
  expect(profile).not.toHaveProperty('passwordHash')
  expect(profile).not.toHaveProperty('status')
  expect(ruleProfile({ login: 'x', custom: null }).custom).toEqual({})
})
