import type { Logger } from '../logger'

/** One part of stopping the process, named for the log line that reports it if it does not finish. */
export interface ShutdownStep {
  name: string
  run(): Promise<void>
}

// Of the shutdown budget, the part kept for the steps after the HTTP drain (closing the database).
const CLOSE_SHARE = 0.2
const MAX_CLOSE_MS = 2000

/** How long the HTTP drain may take so that closing the database still fits in SHUTDOWN_TIMEOUT_MS. */
export const drainBudgetMs = (timeoutMs: number) =>
  timeoutMs - Math.min(MAX_CLOSE_MS, Math.floor(timeoutMs * CLOSE_SHARE))

/**
 * Runs the steps in order, each after the previous one settled (a failed step is logged and the
 * next still runs). If they have not all finished `timeoutMs` after the call, it logs the steps
 * that did not and exits the process with code 1: whatever hangs (a database close, a socket),
 * the process ends. Resolves true when every step succeeded.
 */
export async function runShutdown(
  steps: ShutdownStep[],
  timeoutMs: number,
  logger: Logger,
  exit: (code: number) => void = process.exit,
): Promise<boolean> {
  const unfinished = new Set(steps.map((step) => step.name))
  const deadline = setTimeout(() => {
    logger.error({ unfinished: [...unfinished], timeoutMs }, 'shutdown deadline passed: forcing exit')
    exit(1)
  }, timeoutMs)
  // The deadline must never be what keeps an otherwise finished process alive.
  deadline.unref()
  let succeeded = true
  for (const step of steps) {
    try {
      await step.run()
    } catch (error) {
      succeeded = false
      logger.error({ err: error, step: step.name }, 'shutdown step failed')
    }
    unfinished.delete(step.name)
  }
  clearTimeout(deadline)
  return succeeded
}
