/**
 * Runs `task` once at a time, `delayMs` after the first call: a burst of events costs one
 * refresh, and calls while a refresh runs fold into one more run after it.
 */
export function coalesced(task: () => Promise<void>, delayMs: number) {
  let timer: number | undefined
  let running = false
  let again = false
  const run = async () => {
    timer = undefined
    if (running) return void (again = true)
    running = true
    try {
      await task()
    } finally {
      running = false
      if (again) {
        again = false
        schedule()
      }
    }
  }
  const schedule = () => {
    if (timer === undefined) timer = window.setTimeout(() => void run(), delayMs)
  }
  return { schedule, cancel: () => window.clearTimeout(timer) }
}
