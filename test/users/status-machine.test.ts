import { isAllowed, transition, USER_STATUSES, USER_TRANSITIONS, type UserStatus } from '../../src/users/status-machine'
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
