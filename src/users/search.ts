import { parse, type Filter } from 'scim2-parse-filter'
import { Prisma, type Prisma as PrismaTypes } from '../generated/prisma/client'
import { domainError, fail, ok, type Result } from '../errors'
import { USER_STATUSES, type UserStatus } from './status-machine'
import { PROFILE_COLUMNS } from './profile'

type Where = PrismaTypes.UserWhereInput

const DATE_ATTRIBUTES = [
  'created',
  'activated',
  'statusChanged',
  'lastLogin',
  'lastUpdated',
  'passwordChanged',
] as const
const profileColumnByLowerName = new Map(PROFILE_COLUMNS.map((column) => [column.toLowerCase(), column]))
const dateByLowerName = new Map(DATE_ATTRIBUTES.map((name) => [name.toLowerCase(), name]))

/** Translates a SCIM filter over users (`profile.department eq "Engineering" and status eq "ACTIVE"`) into a where clause. */
export function parseUserSearch(search: string): Result<Where> {
  try {
    return ok(toWhere(parse(search)))
  } catch (error) {
    const message =
      error instanceof SearchError ? error.message : `not a valid SCIM filter: ${(error as Error).message}`
    return fail(domainError('VALIDATION', message, ['filter', 'search']))
  }
}

class SearchError extends Error {}

const REQUIRED_COLUMNS = new Set(['login', 'email', 'created', 'lastUpdated'])

/** `column <condition>`, made false (not unknown) where a nullable column is NULL. */
function presentAnd(column: string, condition: object): Where {
  if (REQUIRED_COLUMNS.has(column)) return { [column]: condition } as Where
  return { AND: [{ [column]: { not: null } }, { [column]: condition }] } as Where
}

function toWhere(filter: Filter): Where {
  switch (filter.op) {
    case 'and':
      return { AND: filter.filters.map(toWhere) }
    case 'or':
      return { OR: filter.filters.map(toWhere) }
    case 'not':
      return { NOT: toWhere(filter.filter) }
    case '[]':
      throw new SearchError(`value filters (${filter.attrPath}[...]) are not supported`)
    default:
      return attributeWhere(filter.attrPath, filter.op, 'compValue' in filter ? filter.compValue : undefined)
  }
}

/**
 * One comparison. Comparisons on a missing (NULL) attribute are false rather than unknown, so
 * `not (...)` and `ne` include users without the attribute, as SCIM requires.
 */
function attributeWhere(path: string, op: string, value: unknown): Where {
  if (op === 'ne') return { NOT: attributeWhere(path, 'eq', value) }
  const lower = path.toLowerCase()
  if (lower === 'id') return { id: stringCondition(path, op, value, false) } as Where
  if (lower === 'status') return { status: statusCondition(op, value) }
  const date = dateByLowerName.get(lower)
  if (date) return presentAnd(date, dateCondition(path, op, value))
  if (lower.startsWith('profile.')) {
    const attribute = path.slice('profile.'.length)
    const column = profileColumnByLowerName.get(attribute.toLowerCase())
    if (column) return presentAnd(column, stringCondition(path, op, value, true))
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(attribute)) return customCondition(attribute, op, value)
  }
  throw new SearchError(`unknown attribute "${path}"`)
}

function requireString(path: string, value: unknown): string {
  if (typeof value !== 'string') throw new SearchError(`"${path}" compares with a string`)
  return value
}

/** Escapes LIKE wildcards so user text matches literally. */
export const escapeLike = (text: string) => text.replace(/[\\%_]/g, '\\$&')

function stringCondition(path: string, op: string, value: unknown, caseInsensitive: boolean): object {
  const mode = caseInsensitive ? ('insensitive' as const) : undefined
  if (op === 'pr') return { not: null }
  const text = requireString(path, value)
  switch (op) {
    case 'eq':
      return { equals: text, mode }
    case 'co':
      return { contains: escapeLike(text), mode }
    case 'sw':
      return { startsWith: escapeLike(text), mode }
    case 'ew':
      return { endsWith: escapeLike(text), mode }
    case 'gt':
      return { gt: text }
    case 'ge':
      return { gte: text }
    case 'lt':
      return { lt: text }
    case 'le':
      return { lte: text }
  }
  throw new SearchError(`operator "${op}" is not supported on "${path}"`)
}

function statusCondition(op: string, value: unknown) {
  const status = String(value).toUpperCase()
  if (op === 'pr') return { in: [...USER_STATUSES] }
  if (!USER_STATUSES.includes(status as UserStatus)) {
    throw new SearchError(`unknown status "${String(value)}"; expected one of ${USER_STATUSES.join(', ')}`)
  }
  if (op === 'eq') return { equals: status as UserStatus }
  if (op === 'ne') return { not: status as UserStatus }
  throw new SearchError(`status supports eq and ne, not "${op}"`)
}

function dateCondition(path: string, op: string, value: unknown) {
  if (op === 'pr') return { not: null }
  const date = new Date(requireString(path, value))
  if (Number.isNaN(date.getTime())) throw new SearchError(`"${path}" compares with an ISO-8601 date-time`)
  const operators: Record<string, object> = {
    eq: { equals: date },
    ne: { not: date },
    gt: { gt: date },
    ge: { gte: date },
    lt: { lt: date },
    le: { lte: date },
  }
  if (!operators[op]) throw new SearchError(`operator "${op}" is not supported on "${path}"`)
  return operators[op]
}

function customCondition(attribute: string, op: string, value: unknown): Where {
  const path = [attribute]
  const present: Where = { NOT: { custom: { path, equals: Prisma.AnyNull } } }
  const comparison = (): Where['custom'] => {
    switch (op) {
      case 'eq':
        return { path, equals: value as PrismaTypes.InputJsonValue }
      case 'co':
        return { path, string_contains: escapeLike(requireString(attribute, value)) }
      case 'sw':
        return { path, string_starts_with: escapeLike(requireString(attribute, value)) }
      case 'ew':
        return { path, string_ends_with: escapeLike(requireString(attribute, value)) }
    }
    throw new SearchError(`operator "${op}" is not supported on custom attribute "${attribute}"`)
  }
  return op === 'pr' ? present : { AND: [present, { custom: comparison() }] }
}
