// A real SCIM 2.0 peer on loopback for provisioning tests: scimmy parses, validates and formats every
// request (RFC 7643/7644) and scimmy-routers serves it over express; only the user store is ours.
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { createServer, type Server } from 'node:http'
import express, { type Request } from 'express'
import SCIMMY from 'scimmy'
import SCIMMYRouters from 'scimmy-routers'

export interface StoredScimUser {
  id: string
  userName: string
  active?: boolean
  [attribute: string]: unknown
}

export interface ScimServer {
  baseUrl: string
  token: string
  /** The users the server holds, as it stores them. */
  users(): StoredScimUser[]
  /** How many requests reached the server (before auth), optionally only one method and path (no query). */
  requestCount(method?: string, path?: string): number
  /**
   * The parsed bodies of the requests that reached the server, optionally only one method and path: what a
   * client sent, including write-only attributes (password) the server never returns.
   */
  bodies(method?: string, path?: string): unknown[]
  close(): Promise<void>
}

export interface ScimServerOptions {
  token?: string
  /** RFC 7643 makes userName caseExact=false; servers differ, so a test can ask for exact matching. */
  userNameFilter?: 'case-insensitive' | 'case-sensitive'
}

interface Store {
  users: Map<string, StoredScimUser>
  userNameFilter: 'case-insensitive' | 'case-sensitive'
}

type UserResource = InstanceType<typeof SCIMMY.Resources.User>
type FilterExpression = Record<string, unknown>

// scimmy's Filter compares `eq` exactly whatever caseExact says: fold userName on both sides for a
// case-insensitive server.
function foldUserName(expressions: FilterExpression[]): FilterExpression[] {
  return expressions.map((expression) =>
    Object.fromEntries(
      Object.entries(expression).map(([attribute, test]) =>
        attribute.toLowerCase() === 'username' && Array.isArray(test)
          ? [
              attribute,
              test.map((part, i) => (i === test.length - 1 && typeof part === 'string' ? part.toLowerCase() : part)),
            ]
          : [attribute, test],
      ),
    ),
  )
}

function findUsers(store: Store, resource: UserResource): StoredScimUser[] {
  const all = [...store.users.values()]
  const filter = resource.filter
  if (!filter) return all
  if (store.userNameFilter === 'case-sensitive') return filter.match(all) as StoredScimUser[]
  const folded = new SCIMMY.Types.Filter(foldUserName([...filter] as FilterExpression[]))
  const byId = new Map(all.map((user) => [user.id, user]))
  const matches = folded.match(all.map((user) => ({ ...user, userName: user.userName.toLowerCase() })))
  return (matches as StoredScimUser[]).map((match) => byId.get(match.id)!)
}

// scimmy leaves scimType out of the error body when it is empty.
const notFound = (id: string) => new SCIMMY.Types.Error(404, '', `Resource ${id} not found`)

function write(store: Store, resource: UserResource, instance: object): StoredScimUser {
  const data = JSON.parse(JSON.stringify(instance)) as Omit<StoredScimUser, 'id'> & { userName: string }
  const id = resource.id ?? randomUUID()
  if (resource.id && !store.users.has(id)) throw notFound(id)
  const taken = [...store.users.values()].some(
    (user) => user.id !== id && user.userName.toLowerCase() === data.userName.toLowerCase(),
  )
  if (taken) throw new SCIMMY.Types.Error(409, 'uniqueness', `userName ${data.userName} is already taken`)
  const now = new Date().toISOString()
  const created = (store.users.get(id)?.meta as { created?: string } | undefined)?.created ?? now
  const user: StoredScimUser = { ...data, id, meta: { resourceType: 'User', created, lastModified: now } }
  store.users.set(id, user)
  return user
}

// scimmy declares resource types globally: the handlers are declared once and reach each server's
// own store through the router's per-request context.
SCIMMY.Resources.declare(SCIMMY.Resources.User, {
  ingress: (resource: UserResource, instance: object, store: Store) => write(store, resource, instance),
  egress: (resource: UserResource, store: Store) => {
    if (!resource.id) return findUsers(store, resource)
    const user = store.users.get(resource.id)
    if (!user) throw notFound(resource.id)
    return user
  },
  degress: (resource: UserResource, store: Store) => {
    if (!resource.id || !store.users.delete(resource.id)) throw notFound(String(resource.id))
  },
})

export async function startScimServer(options: ScimServerOptions = {}): Promise<ScimServer> {
  const token = options.token ?? `scim-${randomUUID()}`
  const store: Store = { users: new Map(), userNameFilter: options.userNameFilter ?? 'case-insensitive' }
  const received: Array<{ method: string; path: string; body?: unknown }> = []
  const logged = new WeakMap<Request, { body?: unknown }>()
  const matching = (method?: string, path?: string) =>
    received.filter((r) => (!method || r.method === method) && (!path || r.path === path))

  const app = express()
  app.use((req, _res, next) => {
    const entry: { method: string; path: string; body?: unknown } = { method: req.method, path: req.path }
    received.push(entry)
    logged.set(req, entry)
    // Express 5 re-parses req.query on every read, which would undo scimmy-routers' cast of
    // startIndex and count to numbers: freeze one parsed copy for the request.
    Object.defineProperty(req, 'query', { value: { ...req.query }, writable: true, configurable: true })
    next()
  })
  // Parsed here with scimmy-routers' own settings (its parser then finds the body read), so the log keeps it.
  app.use(express.json({ type: ['application/scim+json', 'application/json'], limit: '1mb' }), (req, _res, next) => {
    logged.get(req)!.body = req.body
    next()
  })
  app.use(
    '/scim/v2',
    new SCIMMYRouters({
      type: 'bearer',
      handler: (req: Request) => {
        if (req.header('Authorization') !== `Bearer ${token}`) throw new Error('Invalid bearer token')
        return 'provisioning-client'
      },
      context: () => store,
    }),
  )

  const server: Server = createServer(app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    baseUrl: `http://127.0.0.1:${port}/scim/v2`,
    token,
    users: () => [...store.users.values()].map((user) => structuredClone(user)),
    requestCount: (method, path) => matching(method, path).length,
    bodies: (method, path) => matching(method, path).map((r) => structuredClone(r.body)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}
