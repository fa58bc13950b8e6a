// A fault-injecting HTTP proxy on loopback, put between the provisioning code and the real SCIM server
// (scim-server.ts) so tests see the failures a downstream really produces: error answers, slow answers,
// dropped connections, requests that happened downstream although the client never learnt it, and silence.
import { Agent, createServer, request, type IncomingMessage, type OutgoingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error'

export type Fault =
  /**
   * Answers with a SCIM error body without forwarding. A `detail` function is given the request body, for a
   * downstream that quotes what it was sent in its error (some echo the offending resource, secrets included).
   */
  | {
      kind: 'status'
      status: number
      retryAfter?: string
      scimType?: string
      detail?: string | ((requestBody: string) => string)
    }
  /** Forwards after `ms`, even if the client gave up meanwhile: a slow peer still does the work. */
  | { kind: 'delay'; ms: number }
  /** Destroys the client's socket without forwarding or answering. */
  | { kind: 'drop' }
  /** Forwards, lets the downstream answer, then destroys the client's socket: the work happened unseen. */
  | { kind: 'after-forward-drop' }
  /** Never answers, until the proxy closes. */
  | { kind: 'hang' }

export interface FaultOptions {
  /** How many matching requests the fault applies to (default 1; `Infinity` for all of them). */
  times?: number
  method?: string
  /** A prefix of, or a RegExp searched in, the path after the base prefix, query included: '/Users', /^\/Users\?filter=/. */
  path?: string | RegExp
}

export interface ProxiedRequest {
  method: string
  /** After the base prefix, with the query, as ScimRequestLog records it. Headers (the token) are never kept. */
  path: string
  /** The status the client received; absent when it received none (drop, hang, after-forward-drop, gave up). */
  status?: number
}

export interface FaultProxy {
  /** The target's base URL with the proxy's origin: a drop-in replacement for ScimServer.baseUrl. */
  baseUrl: string
  /** Faults apply in the order injected: a request takes the first armed fault that matches it. */
  inject(fault: Fault, options?: FaultOptions): void
  clear(): void
  requests(): ProxiedRequest[]
  close(): Promise<void>
}

interface ArmedFault {
  fault: Fault
  remaining: number
  method?: string
  path?: string | RegExp
}

// Connection-level headers describe one hop; the proxy sets its own on each side.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te'])

function endToEnd(headers: IncomingMessage['headers']): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)))
}

function matches(armed: ArmedFault, method: string, path: string): boolean {
  if (armed.method && armed.method.toUpperCase() !== method) return false
  if (armed.path === undefined) return true
  // search() ignores a RegExp's lastIndex, so a /g pattern matches the same way every time.
  return typeof armed.path === 'string' ? path.startsWith(armed.path) : path.search(armed.path) !== -1
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

export async function startFaultProxy(targetBaseUrl: string): Promise<FaultProxy> {
  const target = new URL(targetBaseUrl)
  if (target.protocol !== 'http:') throw new Error(`the fault proxy forwards plain http only, not ${target.protocol}`)
  const prefix = target.pathname.replace(/\/+$/, '')
  const relative = (url: string) =>
    url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`) ? url.slice(prefix.length) : url

  let armed: ArmedFault[] = []
  const log: ProxiedRequest[] = []
  const timers = new Set<NodeJS.Timeout>()
  // Its own agent, so close() can end the upstream sockets of requests still in flight.
  const agent = new Agent({ keepAlive: false })

  function take(method: string, path: string): Fault | undefined {
    const found = armed.find((candidate) => matches(candidate, method, path))
    if (!found) return undefined
    found.remaining -= 1
    if (found.remaining <= 0) armed = armed.filter((candidate) => candidate !== found)
    return found.fault
  }

  /** Sends the request on; calls back with the downstream's answer, or null if the downstream was unreachable. */
  function forward(req: IncomingMessage, body: Buffer, onAnswer: (answer: IncomingMessage | null) => void) {
    const headers = { ...endToEnd(req.headers), host: target.host, 'content-length': body.length }
    let settled = false
    const settle = (answer: IncomingMessage | null) => {
      if (settled) return
      settled = true
      // close() cuts the downstream mid-answer: the client's socket goes with it.
      answer?.on('error', () => req.socket.destroy())
      onAnswer(answer)
    }
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent },
      settle,
    )
    upstream.on('error', () => settle(null))
    upstream.end(body)
  }

  const server: Server = createServer((req, res) => {
    const method = req.method ?? 'GET'
    const entry: ProxiedRequest = { method, path: relative(req.url ?? '/') }
    log.push(entry)
    const fault = take(method, entry.path)

    const passThrough = (body: Buffer) =>
      forward(req, body, (answer) => {
        // A delayed request whose client already gave up: the downstream did the work, nobody reads the answer.
        if (req.socket.destroyed) return answer?.resume()
        if (!answer) {
          entry.status = 502
          return res.writeHead(502, { 'content-type': 'text/plain' }).end('the fault proxy could not reach the target')
        }
        entry.status = answer.statusCode ?? 502
        res.writeHead(entry.status, endToEnd(answer.headers))
        answer.pipe(res)
      })

    readBody(req).then(
      (body) => {
        switch (fault?.kind) {
          case undefined:
            return passThrough(body)
          case 'status': {
            const { status, retryAfter, scimType, detail } = fault
            res.writeHead(status, {
              'content-type': 'application/scim+json',
              ...(retryAfter !== undefined && { 'retry-after': retryAfter }),
            })
            entry.status = status
            const text = typeof detail === 'function' ? detail(body.toString('utf8')) : detail
            return res.end(
              JSON.stringify({ schemas: [SCIM_ERROR_SCHEMA], status: String(status), scimType, detail: text }),
            )
          }
          case 'delay': {
            const timer = setTimeout(() => {
              timers.delete(timer)
              passThrough(body)
            }, fault.ms)
            return timers.add(timer)
          }
          case 'drop':
            return req.socket.destroy()
          case 'after-forward-drop':
            // Waits for the whole answer, so the downstream has finished the work before the client loses it.
            return forward(req, body, (answer) => {
              if (!answer) return req.socket.destroy()
              answer.resume()
              answer.on('end', () => req.socket.destroy())
            })
          case 'hang':
            return
        }
      },
      () => req.socket.destroy(),
    )
  })

  let closing: Promise<void> | undefined
  const shutDown = () =>
    new Promise<void>((resolve, reject) => {
      for (const timer of timers) clearTimeout(timer)
      timers.clear()
      agent.destroy()
      server.closeAllConnections()
      server.close((error) => (error ? reject(error) : resolve()))
    })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    baseUrl: `http://127.0.0.1:${port}${prefix}`,
    inject(fault, options = {}) {
      const times = options.times ?? 1
      if (!(times >= 1)) throw new Error(`a fault applies to at least one request, not ${times}`)
      armed.push({ fault, remaining: times, method: options.method, path: options.path })
    },
    clear() {
      armed = []
    },
    requests: () => log.map((entry) => ({ ...entry })),
    // Idempotent, so a test can close the proxy mid-way and its afterEach close it again.
    close: () => (closing ??= shutDown()),
  }
}
