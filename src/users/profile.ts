import type { User as UserRow } from '../generated/prisma/client'

/** Base profile attributes, each a column (filterable and indexed where the API filters on it). */
export const PROFILE_COLUMNS = [
  'login',
  'email',
  'firstName',
  'lastName',
  'displayName',
  'department',
  'title',
  'employeeNumber',
  'managerId',
  'mobilePhone',
] as const

export type ProfileColumn = (typeof PROFILE_COLUMNS)[number]

export type Profile = Record<ProfileColumn, string | null> & {
  login: string
  email: string
  custom: Record<string, unknown>
}

/** A profile change: omitted keys stay, `null` clears an optional attribute or a custom key. */
export type ProfilePatch = Partial<Record<ProfileColumn, string | null>> & { custom?: Record<string, unknown> | null }

export function profileOf(row: UserRow): Profile {
  const profile = Object.fromEntries(PROFILE_COLUMNS.map((column) => [column, row[column]])) as unknown as Profile
  profile.custom = (row.custom ?? {}) as Record<string, unknown>
  return profile
}

/** The column writes for a patch; custom attributes merge key by key, `null` values remove a key. */
export function profileWrites(patch: ProfilePatch, currentCustom: Record<string, unknown> = {}) {
  const writes: Partial<Record<ProfileColumn, string | null>> & { custom?: Record<string, unknown> } = {}
  for (const column of PROFILE_COLUMNS) if (patch[column] !== undefined) writes[column] = patch[column]
  if (patch.custom !== undefined) {
    const merged: Record<string, unknown> = { ...currentCustom }
    for (const [key, value] of Object.entries(patch.custom ?? {})) {
      if (value === null) delete merged[key]
      else merged[key] = value
    }
    writes.custom = patch.custom === null ? {} : merged
  }
  return writes
}

/** The name events and logs show for a user. */
export function displayNameOf(row: Pick<UserRow, 'login' | 'firstName' | 'lastName' | 'displayName'>): string {
  return row.displayName ?? ([row.firstName, row.lastName].filter(Boolean).join(' ') || row.login)
}
