import jsep, { type Expression } from 'jsep'
import { PROFILE_COLUMNS } from '../users/profile'

// Okta EL spells logical operators both ways; `AND`/`OR` bind like `&&`/`||`.
jsep.addBinaryOp('AND', 2)
jsep.addBinaryOp('OR', 1)
// Okta EL has no arithmetic, bitwise or comparison beyond equality: refuse them at parse time.
for (const op of ['+', '-', '*', '/', '%', '|', '^', '&', '<<', '>>', '>>>', '<', '>', '<=', '>=', '===', '!==', '??'])
  jsep.removeBinaryOp(op)
for (const op of ['-', '+', '~']) jsep.removeUnaryOp(op)

/** The profile attributes an expression may read, as `user.<name>`. */
export interface RuleSubject {
  profile: Record<string, unknown>
  groupIds: ReadonlySet<string>
}

export interface ParsedRule {
  ast: Expression
  /** Profile attributes the expression reads (a change to one re-runs the rule). */
  attributes: string[]
  /** Groups named by isMemberOfGroup or isMemberOfAnyGroup (deleting one invalidates the rule). */
  groupIds: string[]
}

export class RuleSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message)
  }
}

const STRING_FUNCTIONS: Record<string, (text: string, argument: string) => boolean> = {
  stringContains: (text, argument) => text.includes(argument),
  startsWith: (text, argument) => text.startsWith(argument),
  endsWith: (text, argument) => text.endsWith(argument),
}
/** Okta EL's boolean Arrays functions; anything that is not an array (a missing attribute) is empty. */
const ARRAY_FUNCTIONS: Record<string, { arity: number; test: (array: unknown[], ...args: unknown[]) => boolean }> = {
  contains: { arity: 2, test: (array, value) => value !== null && array.includes(value) },
  isEmpty: { arity: 1, test: (array) => array.length === 0 },
}
const KNOWN_ATTRIBUTES = new Set<string>(PROFILE_COLUMNS)

/** Only a record's own keys are readable: `user.constructor` or `String.toString` reach nothing inherited. */
const ownAttribute = <T>(record: Record<string, T>, name: string): T | undefined =>
  Object.hasOwn(record, name) ? record[name] : undefined

/** Parses an Okta EL rule expression into an AST and checks every node is one we can evaluate. */
export function parseRuleExpression(source: string): ParsedRule {
  let ast: Expression
  try {
    ast = jsep(source)
  } catch (error) {
    const { message, index } = error as Error & { index?: number }
    throw new RuleSyntaxError(message, index ?? 0)
  }
  const attributes = new Set<string>()
  const groupIds = new Set<string>()
  check(ast, attributes, groupIds)
  if (!isBooleanShaped(ast))
    throw new RuleSyntaxError('the expression must evaluate to a boolean (use == to compare)', 0)
  return { ast, attributes: [...attributes], groupIds: [...groupIds] }
}

function isBooleanShaped(node: Expression): boolean {
  if (node.type === 'BinaryExpression') return ['==', '!=', '&&', '||', 'AND', 'OR'].includes(node.operator as string)
  if (node.type === 'UnaryExpression') return node.operator === '!'
  if (node.type === 'CallExpression') return true
  return node.type === 'Literal' && typeof node.value === 'boolean'
}

function check(node: Expression, attributes: Set<string>, groupIds: Set<string>): void {
  switch (node.type) {
    case 'BinaryExpression':
      check(node.left as Expression, attributes, groupIds)
      check(node.right as Expression, attributes, groupIds)
      return
    case 'UnaryExpression':
      check(node.argument as Expression, attributes, groupIds)
      return
    case 'Literal':
      if (typeof node.value !== 'string' && typeof node.value !== 'boolean' && node.value !== null) {
        throw new RuleSyntaxError(`only string and boolean literals are allowed, not ${String(node.raw)}`, 0)
      }
      return
    case 'MemberExpression':
      attributes.add(userAttribute(node))
      return
    case 'CallExpression': {
      const name = functionName(node.callee as Expression)
      const args = node.arguments as Expression[]
      if (name === 'isMemberOfGroup' || name === 'isMemberOfAnyGroup') {
        const one = name === 'isMemberOfGroup'
        const literal = (arg: Expression) => arg.type === 'Literal' && typeof arg.value === 'string'
        if ((one ? args.length !== 1 : args.length === 0) || !args.every(literal)) {
          throw new RuleSyntaxError(`${name} takes ${one ? 'one group id' : 'group ids'} as string literals`, 0)
        }
        for (const group of args) groupIds.add(group.value as string)
        return
      }
      const arrays = name.startsWith('Arrays.')
        ? ownAttribute(ARRAY_FUNCTIONS, name.slice('Arrays.'.length))
        : undefined
      if (arrays) {
        if (args.length !== arrays.arity) throw new RuleSyntaxError(`${name} takes ${arrays.arity} argument(s)`, 0)
        args.forEach((arg) => check(arg, attributes, groupIds))
        return
      }
      if (name.startsWith('String.') && ownAttribute(STRING_FUNCTIONS, name.slice('String.'.length))) {
        if (args.length !== 2) throw new RuleSyntaxError(`${name} takes two arguments`, 0)
        args.forEach((arg) => check(arg, attributes, groupIds))
        return
      }
      throw new RuleSyntaxError(`unknown function ${name}`, 0)
    }
    case 'Compound':
      // jsep reads `a and b` (a lower-case word between two conditions) as two expressions side by side.
      throw new RuleSyntaxError('conditions are combined with && or AND, || or OR', 0)
    default:
      throw new RuleSyntaxError(`unsupported expression: ${node.type}`, 0)
  }
}

function userAttribute(node: Expression): string {
  const object = node.object as Expression
  const property = node.property as Expression
  if (node.computed || object.type !== 'Identifier' || object.name !== 'user' || property.type !== 'Identifier') {
    throw new RuleSyntaxError('attributes are written user.<attribute>', 0)
  }
  return property.name as string
}

function functionName(callee: Expression): string {
  if (callee.type === 'Identifier') return callee.name as string
  if (callee.type === 'MemberExpression' && (callee.object as Expression).type === 'Identifier') {
    return `${(callee.object as Expression).name}.${(callee.property as Expression).name}`
  }
  throw new RuleSyntaxError('unsupported function call', 0)
}

/** Evaluates a parsed rule for one user; missing attributes are null. Pure, no eval. */
export function evaluateRule(rule: ParsedRule, subject: RuleSubject): boolean {
  return truthy(evaluate(rule.ast, subject))
}

const truthy = (value: unknown) => value === true

function evaluate(node: Expression, subject: RuleSubject): unknown {
  switch (node.type) {
    case 'Literal':
      return node.value
    case 'MemberExpression': {
      const name = userAttribute(node)
      const custom = (subject.profile.custom ?? {}) as Record<string, unknown>
      return (KNOWN_ATTRIBUTES.has(name) ? subject.profile[name] : ownAttribute(custom, name)) ?? null
    }
    case 'UnaryExpression':
      return !truthy(evaluate(node.argument as Expression, subject))
    case 'BinaryExpression': {
      const operator = node.operator as string
      if (operator === '&&' || operator === 'AND')
        return truthy(evaluate(node.left as Expression, subject)) && truthy(evaluate(node.right as Expression, subject))
      if (operator === '||' || operator === 'OR')
        return truthy(evaluate(node.left as Expression, subject)) || truthy(evaluate(node.right as Expression, subject))
      const left = evaluate(node.left as Expression, subject)
      const right = evaluate(node.right as Expression, subject)
      return operator === '==' ? left === right : left !== right
    }
    case 'CallExpression': {
      const name = functionName(node.callee as Expression)
      const args = (node.arguments as Expression[]).map((arg) => evaluate(arg, subject))
      if (name === 'isMemberOfGroup' || name === 'isMemberOfAnyGroup')
        return args.some((group) => subject.groupIds.has(group as string))
      if (name.startsWith('Arrays.')) {
        const [array, ...rest] = args
        return ARRAY_FUNCTIONS[name.slice('Arrays.'.length)].test(Array.isArray(array) ? array : [], ...rest)
      }
      const [text, argument] = args
      if (typeof text !== 'string' || typeof argument !== 'string') return false
      return STRING_FUNCTIONS[name.slice('String.'.length)](text, argument)
    }
    default:
      return null
  }
}

/** A map of profile attributes for rule evaluation, including custom ones. */
export function ruleProfile(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries([...PROFILE_COLUMNS.map((column) => [column, row[column]]), ['custom', row.custom ?? {}]])
}
