/**
 * Waits until the wall clock (shared by the server and the tests) has moved past every given
 * timestamp, so that a write made afterwards carries a strictly later millisecond and timestamps
 * can be compared with `>` instead of `>=`. It waits for the clock to tick, not for the server.
 */
export async function clockPasses(...timestamps: (string | null | undefined)[]): Promise<void> {
  const latest = Math.max(0, ...timestamps.map((timestamp) => (timestamp ? Date.parse(timestamp) : 0)))
  while (Date.now() <= latest) await new Promise((resolve) => setImmediate(resolve))
}
