import { USER_STATUSES, type UserOperation, type UserStatus } from '../../src/users/status-machine'

/**
 * The expected status table, written out independently from domain.md 1.5 (plus our documented
 * choices for its unconfirmed cells). Columns follow USER_STATUSES:
 * STAGED PROVISIONED ACTIVE RECOVERY PASSWORD_EXPIRED LOCKED_OUT SUSPENDED DEPROVISIONED.
 * "-" is INVALID_TRANSITION; "A/P" is ACTIVE with a password, PROVISIONED without.
 */
export const EXPECTED: Record<UserOperation, string> = {
  activate:
    'A/P          -            -            -            -                -            -            PROVISIONED',
  reactivate: '-            PROVISIONED  -            PROVISIONED  -                -            -            -',
  deactivate: 'DEPROVISIONED DEPROVISIONED DEPROVISIONED DEPROVISIONED DEPROVISIONED DEPROVISIONED DEPROVISIONED -',
  suspend: '-            -            SUSPENDED    -            -                -            -            -',
  unsuspend: '-            -            -            -            -                -            ACTIVE       -',
  unlock: '-            -            ACTIVE       -            -                ACTIVE       -            -',
  resetPassword: '-            RECOVERY     RECOVERY     RECOVERY     RECOVERY         RECOVERY     -            -',
  expirePassword: '-            -            PASSWORD_EXPIRED -        PASSWORD_EXPIRED -            -            -',
  updateProfile: 'STAGED       PROVISIONED  ACTIVE       RECOVERY     PASSWORD_EXPIRED LOCKED_OUT   SUSPENDED    -',
  delete: 'DEPROVISIONED DEPROVISIONED DEPROVISIONED DEPROVISIONED DEPROVISIONED DEPROVISIONED DEPROVISIONED DELETED',
  completeActivation:
    '-            ACTIVE       -            -            -                -            -            -',
  completeReset: '-            -            -            ACTIVE       -                -            -            -',
  changePassword: '-            -            ACTIVE       -            ACTIVE           -            -            -',
  signIn: '-            -            ACTIVE       -            PASSWORD_EXPIRED -            -            -',
  lockOut: '-            -            LOCKED_OUT   -            LOCKED_OUT       -            -            -',
}

export interface ExpectedCell {
  operation: UserOperation
  from: UserStatus
  /** A status, "DELETED", "A/P", or "-" for INVALID_TRANSITION. */
  expected: string
}

/** Every cell of the table, row by row. */
export const EXPECTED_CELLS: ExpectedCell[] = Object.entries(EXPECTED).flatMap(([operation, row]) =>
  row
    .trim()
    .split(/\s+/)
    .map((expected, column) => ({ operation: operation as UserOperation, from: USER_STATUSES[column], expected })),
)
