import { domainError, type DomainError } from '../errors'
import type { EventType } from '../events/event-catalogue'

/**
 * The user status machine: the single source for the service, the tests and the README.
 * Semantics follow Okta's user lifecycle (shared/docs/domain.md section 1). Cells that
 * domain.md marks unconfirmed carry our choice, explained in `UNCONFIRMED_CHOICES`.
 */
export const USER_STATUSES = [
  'STAGED',
  'PROVISIONED',
  'ACTIVE',
  'RECOVERY',
  'PASSWORD_EXPIRED',
  'LOCKED_OUT',
  'SUSPENDED',
  'DEPROVISIONED',
] as const

export type UserStatus = (typeof USER_STATUSES)[number]

/** A cell: the next status, one that depends on whether a password is set, or deletion. */
export type Outcome = UserStatus | 'DELETED' | { withPassword: UserStatus; withoutPassword: UserStatus }

const ALL_BUT_DEPROVISIONED = USER_STATUSES.filter((status) => status !== 'DEPROVISIONED')
const each = (statuses: readonly UserStatus[], to: (from: UserStatus) => Outcome) =>
  Object.fromEntries(statuses.map((from) => [from, to(from)])) as Partial<Record<UserStatus, Outcome>>

/** Operation x current status -> outcome. A missing cell means INVALID_TRANSITION. */
export const USER_TRANSITIONS = {
  /** Admin activation; without a password the user must finish activation (PROVISIONED). */
  activate: {
    STAGED: { withPassword: 'ACTIVE', withoutPassword: 'PROVISIONED' },
    DEPROVISIONED: 'PROVISIONED',
  },
  /** Restarts an unfinished activation with a new activation token. */
  reactivate: { PROVISIONED: 'PROVISIONED', RECOVERY: 'PROVISIONED' },
  deactivate: each(ALL_BUT_DEPROVISIONED, () => 'DEPROVISIONED'),
  suspend: { ACTIVE: 'SUSPENDED' },
  unsuspend: { SUSPENDED: 'ACTIVE' },
  /** On ACTIVE it only clears the failed sign-in count. */
  unlock: { LOCKED_OUT: 'ACTIVE', ACTIVE: 'ACTIVE' },
  resetPassword: {
    PROVISIONED: 'RECOVERY',
    ACTIVE: 'RECOVERY',
    RECOVERY: 'RECOVERY',
    PASSWORD_EXPIRED: 'RECOVERY',
    LOCKED_OUT: 'RECOVERY',
  },
  expirePassword: { ACTIVE: 'PASSWORD_EXPIRED', PASSWORD_EXPIRED: 'PASSWORD_EXPIRED' },
  updateProfile: each(ALL_BUT_DEPROVISIONED, (from) => from),
  /** Okta's two-step delete: the first call deactivates, the second deletes. */
  delete: { ...each(ALL_BUT_DEPROVISIONED, () => 'DEPROVISIONED'), DEPROVISIONED: 'DELETED' },
  /** The end user sets a password with an activation token. */
  completeActivation: { PROVISIONED: 'ACTIVE' },
  /** The end user sets a password with a reset token. */
  completeReset: { RECOVERY: 'ACTIVE' },
  /** The end user replaces their current (possibly expired) password. */
  changePassword: { ACTIVE: 'ACTIVE', PASSWORD_EXPIRED: 'ACTIVE' },
  /** A successful sign-in; on PASSWORD_EXPIRED it succeeds but requires a change. */
  signIn: { ACTIVE: 'ACTIVE', PASSWORD_EXPIRED: 'PASSWORD_EXPIRED' },
  /** The failed sign-in that reaches the lockout policy's limit. */
  lockOut: { ACTIVE: 'LOCKED_OUT', PASSWORD_EXPIRED: 'LOCKED_OUT' },
} satisfies Record<string, Partial<Record<UserStatus, Outcome>>>

export type UserOperation = keyof typeof USER_TRANSITIONS

/** The API mutation that asks for each operation: a refusal names it, as the caller knows it. */
export const MUTATION_OF: Record<UserOperation, string> = {
  activate: 'activateUser',
  reactivate: 'reactivateUser',
  deactivate: 'deactivateUser',
  suspend: 'suspendUser',
  unsuspend: 'unsuspendUser',
  unlock: 'unlockUser',
  resetPassword: 'resetPassword',
  expirePassword: 'expirePassword',
  updateProfile: 'updateUser',
  delete: 'deleteUser',
  completeActivation: 'setPassword',
  completeReset: 'setPassword',
  changePassword: 'changePassword',
  signIn: 'authenticate',
  lockOut: 'authenticate',
}

/** The lifecycle event type each operation writes (domain.md section 7). */
const USER_EVENT_TYPES: Record<Exclude<UserOperation, 'delete'>, EventType> = {
  activate: 'user.lifecycle.activate',
  reactivate: 'user.lifecycle.reactivate',
  deactivate: 'user.lifecycle.deactivate',
  suspend: 'user.lifecycle.suspend',
  unsuspend: 'user.lifecycle.unsuspend',
  unlock: 'user.account.unlock_by_admin',
  resetPassword: 'user.account.reset_password',
  expirePassword: 'user.account.expire_password',
  updateProfile: 'user.account.update_profile',
  completeActivation: 'user.account.update_password',
  completeReset: 'user.account.update_password',
  changePassword: 'user.account.update_password',
  signIn: 'user.session.start',
  lockOut: 'user.account.lock',
}

/** The event types an operation writes, in order; delete's depend on which of its two steps ran. */
export function eventTypesFor(operation: UserOperation, to: UserStatus | 'DELETED'): EventType[] {
  if (operation !== 'delete') return [USER_EVENT_TYPES[operation]]
  return to === 'DELETED'
    ? ['user.lifecycle.delete.initiated', 'user.lifecycle.delete.completed']
    : [USER_EVENT_TYPES.deactivate]
}

/** Why each unconfirmed cell of domain.md 1.5 is what it is (rendered in the README). */
export const UNCONFIRMED_CHOICES: string[] = [
  'activate is refused (INVALID_TRANSITION) from every status but STAGED and DEPROVISIONED; a PROVISIONED user is sent a new token with reactivate.',
  'reactivate from RECOVERY gives PROVISIONED and clears the password: the user finishes with the new activation token.',
  'deactivate of a DEPROVISIONED user is refused; delete is the second step instead.',
  'resetPassword works from PROVISIONED, ACTIVE, RECOVERY (a fresh token), PASSWORD_EXPIRED and LOCKED_OUT (an admin helping a locked-out user); refused from STAGED, SUSPENDED and DEPROVISIONED.',
  'expirePassword works from ACTIVE and again from PASSWORD_EXPIRED (to issue a new temporary password); refused where no usable password exists (STAGED, PROVISIONED, RECOVERY, DEPROVISIONED), from LOCKED_OUT (unlock first) and SUSPENDED.',
  'unlock on an ACTIVE user succeeds without a status change and clears failed sign-ins.',
  "profile updates are refused for DEPROVISIONED users (Okta's default org setting).",
  'failed sign-ins count only for users who can sign in (ACTIVE, PASSWORD_EXPIRED); reaching the limit gives LOCKED_OUT.',
]

export type Transition = { ok: true; from: UserStatus; to: UserStatus | 'DELETED' } | { ok: false; error: DomainError }

/** Looks up an operation for a user: the resulting status, or an INVALID_TRANSITION error naming both. */
export function transition(operation: UserOperation, user: { status: UserStatus; hasPassword: boolean }): Transition {
  const cell = (USER_TRANSITIONS[operation] as Partial<Record<UserStatus, Outcome>>)[user.status]
  if (cell === undefined) {
    return {
      ok: false,
      error: domainError(
        'INVALID_TRANSITION',
        `${MUTATION_OF[operation]} is not allowed for a user whose status is ${user.status}.`,
      ),
    }
  }
  const to = typeof cell === 'object' ? (user.hasPassword ? cell.withPassword : cell.withoutPassword) : cell
  return { ok: true, from: user.status, to }
}

/** Whether an operation is allowed from a status (for either password state). */
export function isAllowed(operation: UserOperation, status: UserStatus): boolean {
  return (USER_TRANSITIONS[operation] as Partial<Record<UserStatus, Outcome>>)[status] !== undefined
}
