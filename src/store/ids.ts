import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz' // Crockford base32, lower case

function base32(value: bigint, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(value & 31n)] + out
    value >>= 5n
  }
  return out
}

/** Entity kinds and the id prefix that makes every id self-describing for `node(id:)`. */
export const ID_PREFIXES = {
  User: 'usr',
  Group: 'grp',
  GroupRule: 'rul',
  App: 'app',
  AppUser: 'apu',
  ApiToken: 'tok',
  LifecycleEvent: 'evt',
  /** Attempts are numbered by the table (a bigint): their global id is the prefix and that number. */
  ProvisioningAttempt: 'att',
} as const

export type EntityKind = keyof typeof ID_PREFIXES

/**
 * A new opaque id: prefix, 48-bit millisecond time, 80 random bits. Ids sort by creation
 * time, so they double as stable pagination keys without a second ordering column.
 */
export function newId(kind: EntityKind): string {
  const time = base32(BigInt(Date.now()), 10)
  const random = base32(BigInt('0x' + randomBytes(10).toString('hex')), 16)
  return `${ID_PREFIXES[kind]}_${time}${random}`
}

/** The global id of a provisioning attempt, from its row's number. */
export const attemptId = (id: bigint) => `${ID_PREFIXES.ProvisioningAttempt}_${id}`

/** An attempt row as GraphQL shows it: its number as a global id. */
export const asAttemptNode = <T extends { id: bigint }>(row: T) => ({ ...row, id: attemptId(row.id) })

/** The largest value of a PostgreSQL bigint column: a larger number names no row. */
const MAX_BIGINT = 2n ** 63n - 1n

/** A bigint column's value written in decimal, or undefined for other text or a number past the column's range. */
export function bigintKey(text: string): bigint | undefined {
  if (!/^\d{1,19}$/.test(text)) return undefined
  const value = BigInt(text)
  return value <= MAX_BIGINT ? value : undefined
}

/** The row number of an attempt's global id, or undefined for any other id. */
export function attemptNumber(id: string): bigint | undefined {
  const prefix = `${ID_PREFIXES.ProvisioningAttempt}_`
  return id.startsWith(prefix) ? bigintKey(id.slice(prefix.length)) : undefined
}

/** The entity kind an id belongs to, or undefined for a foreign or malformed id. */
export function kindOfId(id: string): EntityKind | undefined {
  const prefix = id.split('_', 1)[0]
  return (Object.keys(ID_PREFIXES) as EntityKind[]).find((kind) => ID_PREFIXES[kind] === prefix)
}
