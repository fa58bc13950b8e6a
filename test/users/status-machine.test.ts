import {
  eventTypesFor,
  isAllowed,
  MUTATION_OF,
  transition,
  USER_STATUSES,
  USER_TRANSITIONS,
  type UserStatus,
} from '../../src/users/status-machine'
import { EXPECTED, EXPECTED_CELLS } from '../support/status-table'

test('the expected table covers every operation and every status', () => {
  expect(Object.keys(EXPECTED).sort()).toEqual(Object.keys(USER_TRANSITIONS).sort())
  for (const row of Object.values(EXPECTED)) expect(row.trim().split(/\s+/)).toHaveLength(USER_STATUSES.length)
})

describe.each(EXPECTED_CELLS)('$operation from $from', ({ operation, from, expected }) => {
  test(expected === '-' ? 'is an invalid transition naming both' : `gives ${expected}`, () => {
    for (const hasPassword of [true, false]) {
      const result = transition(operation, { status: from as UserStatus, hasPassword })
      if (expected === '-') {
        expect(result.ok).toBe(false)
        if (!result.ok) {
          expect(result.error.code).toBe('INVALID_TRANSITION')
          expect(result.error.message).toContain(from)
          expect(result.error.message).toContain(MUTATION_OF[operation])
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

describe('the event types each operation writes (domain.md section 7)', () => {
  test.each([
    ['activate', 'ACTIVE', ['user.lifecycle.activate']],
    ['reactivate', 'PROVISIONED', ['user.lifecycle.reactivate']],
    ['deactivate', 'DEPROVISIONED', ['user.lifecycle.deactivate']],
    ['suspend', 'SUSPENDED', ['user.lifecycle.suspend']],
    ['unsuspend', 'ACTIVE', ['user.lifecycle.unsuspend']],
    ['unlock', 'ACTIVE', ['user.account.unlock_by_admin']],
    ['resetPassword', 'RECOVERY', ['user.account.reset_password']],
    ['expirePassword', 'PASSWORD_EXPIRED', ['user.account.expire_password']],
    ['updateProfile', 'ACTIVE', ['user.account.update_profile']],
    ['completeActivation', 'ACTIVE', ['user.account.update_password']],
    ['completeReset', 'ACTIVE', ['user.account.update_password']],
    ['changePassword', 'ACTIVE', ['user.account.update_password']],
    ['signIn', 'ACTIVE', ['user.session.start']],
    ['lockOut', 'LOCKED_OUT', ['user.account.lock']],
    // Okta's two-step delete: the first call is a deactivation, the second records both delete events.
    ['delete', 'DEPROVISIONED', ['user.lifecycle.deactivate']],
    ['delete', 'DELETED', ['user.lifecycle.delete.initiated', 'user.lifecycle.delete.completed']],
  ] as const)('%s to %s writes %j', (operation, to, types) => {
    expect(eventTypesFor(operation, to)).toEqual(types)
  })
})
