import { domainError, fail, ok, type Result } from '../errors'
import type { ApiToken } from '../generated/prisma/client'
import type { Actor, StoredEvent } from '../events/event-log'
import { newId } from '../store/ids'
import { runUseCase, type Store } from '../store/transaction'
import { isScope, SCOPES, type Principal, type Scope } from './scopes'
import { hashSecret, newSecret } from './secret'

export interface IssuedToken {
  /** The bearer secret; shown once, never stored. */
  secret: string
  token: ApiToken
}

const MAX_CACHED_TOKENS = 10_000

const tokenTarget = (token: ApiToken) => ({ id: token.id, type: 'ApiToken', displayName: token.name })

/** API tokens: issue (hash stored), revoke, and resolve a bearer secret to a principal. */
export class TokenService {
  /** Recently resolved tokens (by hash), so a request needs no lookup; see `cacheMs`. */
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>()
  /**
   * Counts committed revocations. A lookup caches what it read only if no revocation committed
   * while it read: a row read just before a revoke's commit is live but must not be trusted after.
   */
  private revocations = 0
  private readonly revokedListeners = new Set<(tokenId: string) => void>()
  /** Tokens already forgotten: the revoking process hears of its own revocation twice (directly, then from the relay). */
  private readonly forgotten = new Set<string>()

  constructor(
    private readonly store: Store,
    private readonly publish: (events: StoredEvent[]) => void,
    /**
     * How long a resolved token is trusted without reading it again. A revocation applies at once
     * in this process, and in other processes sharing the database as soon as their relay reads it.
     */
    private readonly cacheMs = 0,
  ) {}

  /**
   * Issues a token. When a token asks (`grantor`), it may grant only scopes it holds: asking for
   * more is FORBIDDEN, as any use of a scope it lacks is. The CLI and bootstrap grant any scope.
   */
  async create(
    name: string,
    scopes: string[],
    actor: Actor,
    options: { grantor?: Principal; secret?: string } = {},
  ): Promise<Result<IssuedToken>> {
    const unknown = scopes.filter((scope) => !isScope(scope))
    if (unknown.length > 0) {
      return fail(
        domainError('VALIDATION', `Unknown scopes: ${unknown.join(', ')}. Known: ${SCOPES.join(', ')}.`, ['scopes']),
      )
    }
    const { grantor, secret = newSecret('lgw') } = options
    const beyond = grantor ? scopes.filter((scope) => !grantor.scopes.has(scope as Scope)) : []
    if (beyond.length > 0)
      return fail(
        domainError('FORBIDDEN', `This token cannot grant scopes it lacks: ${[...new Set(beyond)].join(', ')}.`, [
          'scopes',
        ]),
      )
    const created = await runUseCase(this.store, this.publish, async (unit) => {
      const token = await unit.tx.apiToken.create({
        data: { id: newId('ApiToken'), name, scopes: [...new Set(scopes)], tokenHash: hashSecret(secret) },
      })
      unit.record({
        type: 'system.api_token.create',
        actor,
        targets: [tokenTarget(token)],
        data: { scopes: token.scopes },
      })
      return token
    })
    return created.ok ? ok({ secret, token: created.value }) : created
  }

  /** Revokes a token; once this resolves, no request in this process authenticates with it. */
  async revoke(id: string, actor: Actor): Promise<Result<ApiToken>> {
    const revoked = await runUseCase(this.store, this.publish, async (unit) => {
      const updated = await unit.tx.apiToken.updateMany({
        where: { id, revokedAt: null },
        data: { revokedAt: new Date() },
      })
      const token = await unit.tx.apiToken.findFirst({ where: { id } })
      if (!token) return unit.abort(domainError('NOT_FOUND', `No API token with id ${id}.`, ['id']))
      if (updated.count === 0)
        return unit.abort(domainError('INVALID_TRANSITION', 'The token is already revoked.', ['id']))
      unit.record({ type: 'system.api_token.revoke', actor, targets: [tokenTarget(token)] })
      return token
    })
    // After commit, not inside the transaction: a lookup racing the commit would cache the live row again.
    if (revoked.ok) this.forgetRevoked(revoked.value.id)
    return revoked
  }

  /**
   * Stops trusting a token whose revocation committed (in this process, or in another one: the
   * event relay tells every process), and tells the listeners. Repeating it changes nothing more.
   */
  forgetRevoked(tokenId: string): void {
    if (this.forgotten.has(tokenId)) return
    if (this.forgotten.size >= MAX_CACHED_TOKENS) this.forgotten.clear()
    this.forgotten.add(tokenId)
    this.revocations++
    for (const [hash, entry] of this.cache) if (entry.principal?.tokenId === tokenId) this.cache.delete(hash)
    for (const listener of this.revokedListeners) listener(tokenId)
  }

  /** Told the id of each revoked token, after commit (e.g. to end its subscriptions). */
  onRevoked(listener: (tokenId: string) => void): () => void {
    this.revokedListeners.add(listener)
    return () => void this.revokedListeners.delete(listener)
  }

  /** The principal for a bearer secret, or null when unknown or revoked. */
  async authenticate(secret: string): Promise<Principal | null> {
    const tokenHash = hashSecret(secret)
    const cached = this.cache.get(tokenHash)
    if (cached && cached.until > Date.now()) return cached.principal
    const generation = this.revocations
    const token = await this.store.prisma.apiToken.findUnique({ where: { tokenHash } })
    const principal =
      !token || token.revokedAt
        ? null
        : { tokenId: token.id, name: token.name, scopes: new Set(token.scopes.filter(isScope) as Scope[]) }
    if (this.cacheMs > 0 && generation === this.revocations) {
      if (this.cache.size >= MAX_CACHED_TOKENS) this.cache.clear()
      this.cache.set(tokenHash, { principal, until: Date.now() + this.cacheMs })
    }
    return principal
  }

  /**
   * On an empty database, creates the admin token (every scope): `BOOTSTRAP_ADMIN_TOKEN` when
   * given, else a random one. Returns the secret only when it was generated here.
   */
  async bootstrap(fixedSecret: string | undefined, actor: Actor): Promise<{ created: boolean; secret?: string }> {
    if ((await this.store.prisma.apiToken.count()) > 0) return { created: false }
    const issued = await this.create('bootstrap admin', [...SCOPES], actor, { secret: fixedSecret ?? newSecret('lgw') })
    if (!issued.ok) throw new Error(issued.errors[0].message)
    return { created: true, secret: fixedSecret ? undefined : issued.value.secret }
  }
}
