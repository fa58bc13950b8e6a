import type { User as UserRow } from '../generated/prisma/client'

/**
 * Our user -> SCIM 2.0 User resource (RFC 7643: core schema + enterprise extension), in one table that
 * both builds the resource we send and compares it with the downstream's (the changes previewProvisioning
 * shows). Pure: no I/O.
 */
export const CORE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User'
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'

/** What the mapping reads: the user's stored profile and whether the downstream account should be active. */
export type ScimSource = Pick<
  UserRow,
  | 'id'
  | 'login'
  | 'email'
  | 'firstName'
  | 'lastName'
  | 'displayName'
  | 'title'
  | 'department'
  | 'employeeNumber'
  | 'managerId'
> & { active: boolean }

type Value = string | boolean
export type ScimResource = { schemas: string[]; [attribute: string]: unknown }
type Json = Record<string, unknown>

type Accessor = {
  /** The attribute's SCIM path (RFC 7644 3.10), as diffs and PATCH operations name it. */
  attribute: string
  get: (resource: Json) => unknown
  set: (resource: Json, value: Value) => void
}

const asObject = (value: unknown): Json | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined

/** A (possibly dotted) attribute of the core schema or the enterprise extension. */
function at(path: string, extension = false): Accessor {
  const keys = path.split('.')
  const root = (resource: Json) => (extension ? asObject(resource[ENTERPRISE_USER_SCHEMA]) : resource)
  return {
    attribute: extension ? `${ENTERPRISE_USER_SCHEMA}:${path}` : path,
    get: (resource) => keys.reduce<unknown>((node, key) => asObject(node)?.[key], root(resource)),
    set: (resource, value) => {
      let node = extension ? ((resource[ENTERPRISE_USER_SCHEMA] ??= {}) as Json) : resource
      for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Json
      node[keys[keys.length - 1]] = value
    },
  }
}

/** Our single email is the primary work address; on their side the work address, else the primary one. */
const workEmail: Accessor = {
  attribute: 'emails[type eq "work"].value',
  get: (resource) => {
    const emails = Array.isArray(resource.emails) ? resource.emails.map(asObject) : []
    return (emails.find((email) => email?.type === 'work') ?? emails.find((email) => email?.primary === true))?.value
  },
  set: (resource, value) => {
    resource.emails = [{ value, type: 'work', primary: true }]
  },
}

export type MappingRow = Accessor & { read: (user: ScimSource) => Value | null; enterprise: boolean }

const core = (accessor: Accessor, read: MappingRow['read']): MappingRow => ({ ...accessor, read, enterprise: false })
const enterprise = (path: string, read: MappingRow['read']): MappingRow => ({
  ...at(path, true),
  read,
  enterprise: true,
})

/** The mapping: SCIM attribute -> how it is read from our user. Absent values (null) are never sent. */
export const SCIM_USER_MAPPING: readonly MappingRow[] = [
  core(at('userName'), (user) => user.login),
  core(at('name.givenName'), (user) => user.firstName),
  core(at('name.familyName'), (user) => user.lastName),
  core(at('displayName'), (user) => user.displayName),
  core(workEmail, (user) => user.email),
  core(at('title'), (user) => user.title),
  core(at('active'), (user) => user.active),
  // The downstream's own id becomes our app user's externalId; ours travels as theirs (RFC 7643 3.1).
  core(at('externalId'), (user) => user.id),
  enterprise('department', (user) => user.department),
  enterprise('employeeNumber', (user) => user.employeeNumber),
  enterprise('manager.value', (user) => user.managerId),
]

/** The SCIM User resource for our user; the enterprise schema is listed only when it carries a value. */
export function toScimUser(user: ScimSource): ScimResource {
  const resource: Json = {}
  const schemas = new Set([CORE_USER_SCHEMA])
  for (const row of SCIM_USER_MAPPING) {
    const value = row.read(user)
    if (value === null || value === undefined) continue
    row.set(resource, value)
    if (row.enterprise) schemas.add(ENTERPRISE_USER_SCHEMA)
  }
  return { schemas: [...schemas], ...resource }
}

/** SCIM servers differ on userName case (RFC 7643 leaves caseExact to each): compare case-insensitively. */
export function sameUserName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase()
}

export type AttributeChange = { attribute: string; from: unknown; to: unknown }

/** The mapped attributes whose value differs between theirs (from) and ours (to); absent reads as null. */
export function diffResources(ours: Json, theirs: Json): AttributeChange[] {
  return changes((row) => row.get(ours), theirs)
}

/**
 * What pushing our user over their resource would change: `diffResources(toScimUser(user), theirs)`
 * without building the resource, for a plan comparing thousands of accounts.
 */
export function changesFrom(user: ScimSource, theirs: Json): AttributeChange[] {
  return changes((row) => row.read(user), theirs)
}

function changes(ours: (row: MappingRow) => unknown, theirs: Json): AttributeChange[] {
  const found: AttributeChange[] = []
  for (const row of SCIM_USER_MAPPING) {
    const to = ours(row) ?? null
    const from = row.get(theirs) ?? null
    const same =
      row.attribute === 'userName' && typeof from === 'string' && typeof to === 'string'
        ? sameUserName(from, to)
        : from === to
    if (!same) found.push({ attribute: row.attribute, from, to })
  }
  return found
}
