import { isAllowed, transition, USER_STATUSES, USER_TRANSITIONS, type UserOperation, type UserStatus } from '../../src/users/status-machine'

/**
 * The expected table, written out independently from domain.md 1.5 (plus our documented
 * choices for its unconfirmed cells). Columns follow USER_STATUSES:
 * STAGED PROVISIONED ACTIVE RECOVERY PASSWORD_EXPIRED LOCKED_OUT SUSPENDED DEPROVISIONED.
 * "-" is INVALID_TRANSITION; "A/P" is ACTIVE with a password, PROVISIONED without.
 */
const EXPECTED: Record<UserOperation, string> = {
  activate:           'A/P          -            -            -            -                -            -            PROVISIONED',
  reactivate:         '-            PROVISIONED  -            PROVISIONED  -                -            -            -',
  deactivate:         'DEPROVISIONED DEPROVISIONED DEPROVISIONED DEPROVISIONED DEPROVISIONED DEPROVISIONED DEPROVISIONED -',
  suspend:            '-            -            SUSPENDED    -            -                -            -            -',
  unsuspend:          '-            -            -            -            -                -            ACTIVE       -',
  unlock:             '-            -            ACTIVE       -            -                ACTIVE       -            -',
  resetPassword:      '-            RECOVERY     RECOVERY     RECOVERY     RECOVERY         RECOVERY     -            -',
  expirePassword:     '-            -            PASSWORD_EXPIRED -        PASSWORD_EXPIRED -            -            -',
  updateProfile:      'STAGED       PROVISIONED  ACTIVE       RECOVERY     PASSWORD_EXPIRED LOCKED_OUT   SUSPENDED    -',
  delete:             'DEPROVISIONED DEPROVISIONED DEPROVISIONED DEPROVISIONED DEPROVISIONED DEPROVISIONED DEPROVISIONED DELETED',
  completeActivation: '-            ACTIVE       -            -            -                -            -            -',
  completeReset:      '-            -            -            ACTIVE       -                -            -            -',
  changePassword:     '-            -            ACTIVE       -            ACTIVE           -            -            -',
  signIn:             '-            -            ACTIVE       -            PASSWORD_EXPIRED -            -            -',
  lockOut:            '-            -            LOCKED_OUT   -            LOCKED_OUT       -            -            -',
}

const cells = Object.entries(EXPECTED).flatMap(([operation, row]) =>
  row.trim().split(/\s+/).map((expected, column) => ({ operation: operation as UserOperation, from: USER_STATUSES[column], expected })),
)

test('the expected table covers every operation and every status', () => {
  expect(Object.keys(EXPECTED).sort()).toEqual(Object.keys(USER_TRANSITIONS).sort())
  for (const row of Object.values(EXPECTED)) expect(row.trim().split(/\s+/)).toHaveLength(USER_STATUSES.length)
})

describe.each(cells)('$operation from $from', ({ operation, from, expected }) => {
  test(expected === '-' ? 'is an invalid transition naming both' : `gives ${expected}`, () => {
    for (const hasPassword of [true, false]) {
      const result = transition(operation, { status: from as UserStatus, hasPassword })
      if (expected === '-') {
        expect(result.ok).toBe(false)
        if (!result.ok) {
          expect(result.error.code).toBe('INVALID_TRANSITION')
          expect(result.error.message).toContain(from)
          expect(result.error.message).toContain(operation)
        }
        expect(isAllowed(operation, from)).toBe(false)
      } else {
        const wanted = expected === 'A/P' ? (hasPassword ? 'ACTIVE' : 'PROVISIONED') : expected
        expect(result).toEqual({ ok: true, from, to: wanted })
        expect(isAllowed(operation, from)).toBe(true)
      }
    }
  })
})
