import type http from 'node:http'

const IDLE_SWEEP_MS = 100
// Connections a client opened just before the signal may still wait in the listen backlog, and
// requests already written may sit unread in a socket buffer: for this long after the signal the
// server keeps accepting (reporting not-ready, answering with `connection: close`) before it
// closes the listener and starts closing idle connections.
const ACCEPT_GRACE_MS = 1000

/**
 * Drains an HTTP server: report not-ready and keep accepting briefly, then stop accepting, let
 * requests finish, close keep-alive connections as they become idle, and cut whatever remains
 * after `timeoutMs`.
 */
export async function drainHttpServer(server: http.Server, timeoutMs: number): Promise<void> {
  // Responses sent from now on tell clients not to reuse the connection.
  server.on('request', (_req, res: http.ServerResponse) => res.setHeader('connection', 'close'))
  const deadline = Date.now() + timeoutMs
  await new Promise((resolve) => setTimeout(resolve, Math.min(ACCEPT_GRACE_MS, timeoutMs)))
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeIdleConnections()
  const sweeper = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS)
  const timedOut = new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref())
  await Promise.race([closed, timedOut])
  clearInterval(sweeper)
  server.closeAllConnections()
  await closed
}
