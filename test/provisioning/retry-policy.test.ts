import {
  BACKOFF_BASE_MS,
  BACKOFF_CAP_MS,
  backoffMs,
  classify,
  decide,
  DEFAULT_RETRY_AFTER_MS,
  OUTCOMES,
  RETRY_POLICY,
  retryAfterMs,
  type AttemptResult,
  type Outcome,
  type ProvisioningOperation,
} from '../../src/provisioning/retry-policy'

const NOW = new Date('2026-12-01T12:00:00.000Z')
const MAX_ATTEMPTS = 10
const HALF = () => 0.5

/** One attempt result per outcome, with the operation it was made for. */
const SAMPLES: Record<Outcome, { result: AttemptResult; operation: ProvisioningOperation }> = {
  SUCCESS: { result: { kind: 'response', status: 201 }, operation: 'CREATE' },
  TIMEOUT: { result: { kind: 'timeout' }, operation: 'UPDATE' },
  NETWORK_ERROR: { result: { kind: 'network-error', detail: 'ECONNRESET' }, operation: 'UPDATE' },
  SERVER_ERROR: { result: { kind: 'response', status: 503, detail: 'maintenance' }, operation: 'UPDATE' },
  RATE_LIMITED: { result: { kind: 'response', status: 429, retryAfter: '30' }, operation: 'UPDATE' },
  AUTHENTICATION_FAILED: { result: { kind: 'response', status: 401, detail: 'bad token' }, operation: 'CREATE' },
  CONFLICT_ON_CREATE: { result: { kind: 'response', status: 409, detail: 'userName taken' }, operation: 'CREATE' },
  CLIENT_ERROR: { result: { kind: 'response', status: 400, detail: 'title is too long' }, operation: 'UPDATE' },
  UNEXPECTED_STATUS: { result: { kind: 'response', status: 304 }, operation: 'UPDATE' },
}

/**
 * The expected table, outcome x attempt: first (1), middle (5), last (MAX_ATTEMPTS).
 * S = SUCCEEDED, L = LINK_EXISTING, R = RETRY_SCHEDULED, F = FAILED.
 */
const EXPECTED: Record<Outcome, [string, string, string]> = {
  SUCCESS: ['S', 'S', 'S'],
  TIMEOUT: ['R', 'R', 'F'],
  NETWORK_ERROR: ['R', 'R', 'F'],
  SERVER_ERROR: ['R', 'R', 'F'],
  RATE_LIMITED: ['R', 'R', 'F'],
  AUTHENTICATION_FAILED: ['F', 'F', 'F'],
  CONFLICT_ON_CREATE: ['L', 'L', 'L'],
  CLIENT_ERROR: ['F', 'F', 'F'],
  UNEXPECTED_STATUS: ['F', 'F', 'F'],
}
const KINDS = { S: 'SUCCEEDED', L: 'LINK_EXISTING', R: 'RETRY_SCHEDULED', F: 'FAILED' } as const
const ATTEMPTS = [1, 5, MAX_ATTEMPTS]

const CELLS = OUTCOMES.flatMap((outcome) =>
  ATTEMPTS.map((attempt, i) => ({ outcome, attempt, kind: KINDS[EXPECTED[outcome][i] as keyof typeof KINDS] })),
)

const decideFor = (outcome: Outcome, attempt: number, random = HALF) =>
  decide(SAMPLES[outcome].result, {
    operation: SAMPLES[outcome].operation,
    attempt,
    maxAttempts: MAX_ATTEMPTS,
    now: NOW,
    random,
  })

test('the expected table covers every outcome the policy knows', () => {
  expect(Object.keys(EXPECTED).sort()).toEqual([...OUTCOMES].sort())
  expect(Object.keys(RETRY_POLICY).sort()).toEqual([...OUTCOMES].sort())
  for (const outcome of OUTCOMES) expect(classify(SAMPLES[outcome].result, SAMPLES[outcome].operation)).toBe(outcome)
})

describe.each(CELLS)('$outcome on attempt $attempt', ({ outcome, attempt, kind }) => {
  test(`gives ${kind}`, () => {
    expect(decideFor(outcome, attempt).kind).toBe(kind)
  })
})

describe('what a failed app user shows', () => {
  test('a 401 or a 403 is an authentication failure with syncState ERROR', () => {
    for (const status of [401, 403]) {
      const decision = decide(
        { kind: 'response', status, detail: 'The token is invalid.' },
        { operation: 'UPDATE', attempt: 1, maxAttempts: MAX_ATTEMPTS, now: NOW, random: HALF },
      )
      expect(decision).toEqual({
        kind: 'FAILED',
        syncState: 'ERROR',
        event: 'application.integration.authentication_failure',
        detail: 'The token is invalid.',
        pauseAppUntil: null,
      })
    }
  })

  test("another 4xx fails at once with the downstream's detail as a general failure", () => {
    expect(decideFor('CLIENT_ERROR', 1)).toEqual({
      kind: 'FAILED',
      syncState: 'ERROR',
      event: 'application.integration.general_failure',
      detail: 'title is too long',
      pauseAppUntil: null,
    })
  })

  test('a 4xx without a detail is described by its status', () => {
    const decision = decide(
      { kind: 'response', status: 422 },
      { operation: 'UPDATE', attempt: 1, maxAttempts: MAX_ATTEMPTS, now: NOW, random: HALF },
    )
    expect(decision).toMatchObject({ kind: 'FAILED', detail: 'HTTP 422' })
  })

  test('a 409 on anything but a create is an ordinary client error, so a lookup never loops', () => {
    for (const operation of ['LINK', 'UPDATE', 'DEACTIVATE', 'REACTIVATE', 'PASSWORD'] as const) {
      expect(classify({ kind: 'response', status: 409 }, operation)).toBe('CLIENT_ERROR')
    }
  })

  test('transient failures give up after the last attempt as a general failure naming the attempts', () => {
    expect(decideFor('SERVER_ERROR', MAX_ATTEMPTS)).toEqual({
      kind: 'FAILED',
      syncState: 'ERROR',
      event: 'application.integration.general_failure',
      detail: 'maintenance (gave up after 10 attempts)',
      pauseAppUntil: null,
    })
    expect(decideFor('TIMEOUT', MAX_ATTEMPTS)).toMatchObject({
      detail: 'No answer before the timeout (gave up after 10 attempts)',
    })
    expect(decideFor('NETWORK_ERROR', MAX_ATTEMPTS)).toMatchObject({
      detail: 'Network error: ECONNRESET (gave up after 10 attempts)',
    })
  })

  test('the attempt limit is the one passed in (PROVISIONING_MAX_ATTEMPTS)', () => {
    const context = { operation: 'UPDATE' as const, now: NOW, random: HALF, maxAttempts: 3 }
    expect(decide({ kind: 'timeout' }, { ...context, attempt: 2 }).kind).toBe('RETRY_SCHEDULED')
    expect(decide({ kind: 'timeout' }, { ...context, attempt: 3 }).kind).toBe('FAILED')
  })
})

describe('a 429 pauses the whole app', () => {
  test('until Retry-After, with a rate-limit event on every 429', () => {
    expect(decideFor('RATE_LIMITED', 1)).toEqual({
      kind: 'RETRY_SCHEDULED',
      delayMs: 30_000,
      pauseAppUntil: new Date('2026-12-01T12:00:30.000Z'),
      event: 'application.integration.rate_limit_exceeded',
    })
  })

  test('still holds the app when the last attempt is rate limited, and the app user shows ERROR', () => {
    expect(decideFor('RATE_LIMITED', MAX_ATTEMPTS)).toMatchObject({
      kind: 'FAILED',
      syncState: 'ERROR',
      event: 'application.integration.rate_limit_exceeded',
      pauseAppUntil: new Date('2026-12-01T12:00:30.000Z'),
    })
  })

  test('for 60 s when Retry-After is absent, whatever the attempt (no doubling)', () => {
    for (const attempt of [1, 5]) {
      const decision = decide(
        { kind: 'response', status: 429 },
        { operation: 'CREATE', attempt, maxAttempts: MAX_ATTEMPTS, now: NOW, random: HALF },
      )
      expect(decision).toMatchObject({ delayMs: 60_000, pauseAppUntil: new Date('2026-12-01T12:01:00.000Z') })
    }
  })

  test('other retries pause nothing but their own job and record no event until they fail', () => {
    for (const outcome of ['TIMEOUT', 'NETWORK_ERROR', 'SERVER_ERROR'] as const) {
      expect(decideFor(outcome, 1)).toMatchObject({ pauseAppUntil: null, event: null })
    }
  })
})

describe('Retry-After', () => {
  test('integer seconds are honoured exactly', () => {
    expect(retryAfterMs('0', NOW)).toBe(0)
    expect(retryAfterMs('120', NOW)).toBe(120_000)
    expect(retryAfterMs(' 7 ', NOW)).toBe(7_000)
  })

  test('an HTTP-date in the future is the wait until then', () => {
    expect(retryAfterMs('Tue, 01 Dec 2026 12:02:05 GMT', NOW)).toBe(125_000)
  })

  test('an HTTP-date in the past means retry now', () => {
    expect(retryAfterMs('Mon, 30 Nov 2026 12:00:00 GMT', NOW)).toBe(0)
  })

  test.each([['soon'], ['12.5'], ['-3'], ['2026-12-01T12:05:00Z'], [''], [null], [undefined]])(
    'an unusable value (%p) falls back to 60 s',
    (value) => {
      expect(retryAfterMs(value, NOW)).toBe(DEFAULT_RETRY_AFTER_MS)
      expect(DEFAULT_RETRY_AFTER_MS).toBe(60_000)
    },
  )
})

describe('exponential backoff with full jitter', () => {
  test('a random draw of 0 retries at once and 1 waits the whole ceiling', () => {
    expect(backoffMs(1, () => 0)).toBe(0)
    expect(backoffMs(1, () => 1)).toBe(BACKOFF_BASE_MS)
    expect(backoffMs(4, () => 0)).toBe(0)
    expect(backoffMs(4, () => 1)).toBe(8 * BACKOFF_BASE_MS)
  })

  test('the ceiling doubles with each attempt up to the cap', () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((attempt) => backoffMs(attempt, () => 1))
    expect(ceilings).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 300].map((s) => s * 1_000))
    expect(backoffMs(30, () => 1)).toBe(BACKOFF_CAP_MS)
  })

  test('a retry is scheduled after the jittered delay, which the injected random source decides', () => {
    expect(decideFor('SERVER_ERROR', 3, () => 0.25)).toEqual({
      kind: 'RETRY_SCHEDULED',
      delayMs: 1_000,
      pauseAppUntil: null,
      event: null,
    })
  })
})
