import { z } from 'zod'
import { sendScim, type ScimConnection, type ScimResponse, type ScimResult } from './scim-http'

export type { ScimConnection, ScimFailure, ScimRequestLog, ScimResult } from './scim-http'

export const SCIM_USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User'
const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

/** A User as the downstream returns it: the fields the engine reads are typed, the rest is kept. */
const scimUser = z.looseObject({
  id: z.string().min(1),
  userName: z.string(),
  active: z.boolean().optional(),
})
export type ScimUser = z.infer<typeof scimUser>

const listResponse = z.looseObject({
  totalResults: z.number().int().min(0),
  startIndex: z.number().int().optional(),
  itemsPerPage: z.number().int().optional(),
  Resources: z.array(scimUser).default([]),
})
export type ScimListResponse = z.infer<typeof listResponse>

/** The resource we send: the mapping builds it; the client only needs the userName to be there. */
export type ScimUserPayload = { userName: string } & Record<string, unknown>

/** Reads a 2xx body with `schema`, or reports the answer as unusable (`protocol`) without retrying it. */
function expect<T>(result: ScimResult<ScimResponse>, schema: z.ZodType<T>, what: string): ScimResult<T> {
  if (!result.ok) return result
  const parsed = schema.safeParse(result.body.body)
  if (parsed.success) return { ok: true, status: result.status, body: parsed.data, request: result.request }
  return { ok: false, kind: 'protocol', status: result.status, detail: what, request: result.request }
}

const usersPath = (id: string) => `/Users/${encodeURIComponent(id)}`

/** A SCIM 2.0 client for one app's connection. Every method resolves to a result; none throws for a downstream failure. */
export class ScimClient {
  constructor(private readonly connection: ScimConnection) {}

  /**
   * The downstream account with this userName, or null. The filter value is a JSON string (RFC 7644 3.4.2.2),
   * and the match is compared case-insensitively because servers differ in how they filter userName.
   * A 404 answer means "not found" as Okta reads it (domain.md 6.2).
   */
  async findByUserName(userName: string): Promise<ScimResult<ScimUser | null>> {
    const filter = encodeURIComponent(`userName eq ${JSON.stringify(userName)}`)
    const result = await sendScim(this.connection, 'GET', `/Users?filter=${filter}`)
    if (!result.ok && result.kind === 'http' && result.status === 404) {
      return { ok: true, status: 404, body: null, request: result.request }
    }
    const list = expect(result, listResponse, 'the user search did not answer with a ListResponse')
    if (!list.ok) return list
    const wanted = userName.toLowerCase()
    const match = list.body.Resources.find((user) => user.userName.toLowerCase() === wanted) ?? null
    return { ...list, body: match }
  }

  /** POST /Users: the created account, which must carry its server-assigned `id`. */
  async create(resource: ScimUserPayload): Promise<ScimResult<ScimUser>> {
    const result = await sendScim(this.connection, 'POST', '/Users', { schemas: [SCIM_USER_SCHEMA], ...resource })
    return expect(result, scimUser, 'the create answered without a user id')
  }

  /** PUT /Users/{id}: the whole resource replaces the account, so the caller includes `active`. */
  async replace(id: string, resource: ScimUserPayload): Promise<ScimResult<ScimUser>> {
    const result = await sendScim(this.connection, 'PUT', usersPath(id), { schemas: [SCIM_USER_SCHEMA], ...resource })
    return expect(result, scimUser, 'the replace did not answer with the user')
  }

  /** PATCH `active` (never DELETE): Okta's deactivate and reactivate; 200 with the user or 204 both succeed. */
  async setActive(id: string, active: boolean): Promise<ScimResult<undefined>> {
    return this.patch(id, { active })
  }

  private async patch(id: string, value: Record<string, unknown>): Promise<ScimResult<undefined>> {
    const result = await sendScim(this.connection, 'PATCH', usersPath(id), {
      schemas: [PATCH_OP_SCHEMA],
      Operations: [{ op: 'replace', value }],
    })
    if (!result.ok) return result
    return { ok: true, status: result.status, body: undefined, request: result.request }
  }

  /** PATCH `password` (write-only in SCIM): Okta's password sync. */
  async setPassword(id: string, password: string): Promise<ScimResult<undefined>> {
    return this.patch(id, { password })
  }

  /** One page of GET /Users (startIndex is 1-based), for imports and previews. */
  async list(startIndex: number, count: number): Promise<ScimResult<ScimListResponse>> {
    const result = await sendScim(this.connection, 'GET', `/Users?startIndex=${startIndex}&count=${count}`)
    return expect(result, listResponse, 'the user list did not answer with a ListResponse')
  }
}
