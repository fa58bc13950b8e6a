import type http from 'node:http'

const IDLE_SWEEP_MS = 100
// Requests already written to an open connection may still sit unread in its socket buffer;
// closing "idle" connections at once would drop them, so the first sweep waits this long.
const FIRST_SWEEP_DELAY_MS = 500

/**
 * Drains an HTTP server: stop accepting connections, let requests already sent finish, close
 * keep-alive connections as they become idle, and cut whatever remains after `timeoutMs`.
 */
export async function drainHttpServer(server: http.Server, timeoutMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  // Responses sent from now on tell clients not to reuse the connection.
  server.on('request', (_req, res: http.ServerResponse) => res.setHeader('connection', 'close'))
  const deadline = Date.now() + timeoutMs
  let sweeper: NodeJS.Timeout | undefined
  const firstSweep = setTimeout(() => {
    server.closeIdleConnections()
    sweeper = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS)
  }, Math.min(FIRST_SWEEP_DELAY_MS, timeoutMs))
  const timedOut = new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref())
  await Promise.race([closed, timedOut])
  clearTimeout(firstSweep)
  if (sweeper) clearInterval(sweeper)
  server.closeAllConnections()
  await closed
}
