import { createLogger } from '../../src/logger'
import { drainBudgetMs, runShutdown } from '../../src/server/shutdown'

const lines: any[] = []
const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) })
const exit = jest.fn()

beforeEach(() => {
  lines.length = 0
  exit.mockReset()
  jest.useFakeTimers()
})
afterEach(() => jest.useRealTimers())

test('a step that never finishes: at the deadline the process exits with code 1 and the log names what did not finish', async () => {
  const closed = jest.fn(async () => {})
  void runShutdown(
    [
      { name: 'HTTP and WebSocket drain', run: () => new Promise<void>(() => {}) },
      { name: 'database close', run: closed },
    ],
    10_000,
    logger,
    exit,
  )
  await jest.advanceTimersByTimeAsync(9_999)
  expect(exit).not.toHaveBeenCalled()
  await jest.advanceTimersByTimeAsync(1)
  expect(exit).toHaveBeenCalledWith(1)
  expect(lines).toContainEqual(
    expect.objectContaining({
      msg: 'shutdown deadline passed: forcing exit',
      unfinished: ['HTTP and WebSocket drain', 'database close'],
    }),
  )
  expect(closed).not.toHaveBeenCalled()
})

test('a shutdown that finishes leaves no timer behind and never forces an exit', async () => {
  const order: string[] = []
  const succeeded = await runShutdown(
    [
      { name: 'drain', run: async () => void order.push('drain') },
      { name: 'database close', run: async () => void order.push('database close') },
    ],
    10_000,
    logger,
    exit,
  )
  expect(succeeded).toBe(true)
  expect(order).toEqual(['drain', 'database close'])
  expect(jest.getTimerCount()).toBe(0)
  await jest.runAllTimersAsync()
  expect(exit).not.toHaveBeenCalled()
})

test('a failing step is logged and the next step still runs; the shutdown reports the failure', async () => {
  const closed = jest.fn(async () => {})
  const succeeded = await runShutdown(
    [
      { name: 'drain', run: async () => Promise.reject(new Error('socket error')) },
      { name: 'database close', run: closed },
    ],
    10_000,
    logger,
    exit,
  )
  expect(succeeded).toBe(false)
  expect(closed).toHaveBeenCalled()
  expect(lines).toContainEqual(expect.objectContaining({ msg: 'shutdown step failed', step: 'drain' }))
})

test('the HTTP drain leaves part of SHUTDOWN_TIMEOUT_MS for closing the database', () => {
  expect(drainBudgetMs(10_000)).toBe(8_000)
  expect(drainBudgetMs(20_000)).toBe(18_000)
  expect(drainBudgetMs(0)).toBe(0)
})
