import type { Config } from '../config'
import { domainError, fail, ok, type Result } from '../errors'
import type { Prisma as PrismaTypes, User as UserRow } from '../generated/prisma/client'
import type { Actor, EventDraft, StoredEvent } from '../events/event-log'
import type { StatusChangeData } from '../events/topics'
import { newId } from '../store/ids'
import { runUseCase, type Store, type UnitOfWork } from '../store/transaction'
import type { Sql } from '../store/unit-connection'
import { hashSecret, newSecret } from '../tokens/secret'
import { hashPassword, spendDecoyVerification, temporaryPassword, verifyPassword } from './password'
import { displayNameOf, profileWrites, type ProfilePatch } from './profile'
import { eventTypesFor, isAllowed, MUTATION_OF, transition, type UserOperation } from './status-machine'
import { oneTimeTokenRows, userRows, type OneTimeTokenPurpose } from './user-rows'

export interface UserServiceDeps {
  store: Store
  config: Pick<Config, 'LOCKOUT_MAX_ATTEMPTS' | 'ACTIVATION_TOKEN_TTL_HOURS' | 'RESET_TOKEN_TTL_MINUTES'>
  /** Called with the events of each committed transaction. */
  publish(events: StoredEvent[]): void
}

/** Admin lifecycle operations that take only a user id. */
export type AdminOperation =
  | 'activate'
  | 'reactivate'
  | 'deactivate'
  | 'suspend'
  | 'unsuspend'
  | 'unlock'
  | 'resetPassword'
  | 'expirePassword'
  | 'delete'

export interface LifecycleOutcome {
  /** The user after the change; null once deleted. */
  user: UserRow | null
  activationToken?: string
  resetToken?: string
  tempPassword?: string
}

export interface NewUser {
  profile: ProfilePatch & { login: string; email: string }
  password?: string
  activate: boolean
}

export interface SignInOutcome {
  success: boolean
  passwordChangeRequired: boolean
  user: UserRow | null
}

type Writes = Partial<Omit<UserRow, 'id' | 'status' | 'custom'>> & { custom?: PrismaTypes.InputJsonValue }

const userTarget = (user: UserRow) => ({ id: user.id, type: 'User', displayName: displayNameOf(user) })
const notFound = (id: string) => domainError('NOT_FOUND', `No user with id ${id}.`, ['id'])
const LOGIN_TAKEN = domainError('CONFLICT', 'A user with this login already exists.', ['profile', 'login'])
const SIGN_IN_REFUSED = domainError('AUTHENTICATION_FAILED', 'Sign-in failed.')

/** User lifecycle use cases: each one reads, asks the status machine, and writes state + events in one transaction. */
export class UserService {
  constructor(private readonly deps: UserServiceDeps) {}

  async create(input: NewUser, actor: Actor): Promise<Result<LifecycleOutcome>> {
    const passwordHash = input.password ? await hashPassword(input.password) : null
    return this.run(async (unit) => {
      const now = new Date()
      const created = await userRows.insert(unit.sql, {
        id: newId('User'),
        status: 'STAGED',
        ...profileWrites(input.profile),
        login: input.profile.login,
        email: input.profile.email,
        passwordHash,
        passwordChanged: passwordHash ? now : null,
        created: now,
        lastUpdated: now,
      })
      unit.record({ type: 'user.lifecycle.create', actor, targets: [userTarget(created)], data: { status: 'STAGED' } })
      unit.fact({ kind: 'usersCreated', users: [created], actor })
      // After usersCreated: the pushes reach the app users its grants create.
      if (input.password) unit.fact({ kind: 'passwordChanged', userId: created.id, password: input.password })
      // What creation sets off (Everyone, rules, grants) is recorded before the activation, as it happened first.
      await unit.settle()
      if (!input.activate) return { user: created }
      return this.changeStatus(unit, actor, created, 'activate', {}, now)
    })
  }

  async update(id: string, patch: ProfilePatch, actor: Actor): Promise<Result<LifecycleOutcome>> {
    return this.run(async (unit) => {
      const user = await this.load(unit, id)
      if (patch.login && patch.login !== user.login) {
        const taken = await unit.tx.user.findFirst({ where: { login: patch.login }, select: { id: true } })
        if (taken)
          unit.abort(domainError('CONFLICT', `A user with login ${patch.login} already exists.`, ['profile', 'login']))
      }
      const writes = profileWrites(patch, user.custom as Record<string, unknown>) as Writes
      const changed = Object.keys(writes)
      return this.changeStatus(unit, actor, user, 'updateProfile', writes, new Date(), { changedAttributes: changed })
    })
  }

  /** Runs one admin lifecycle operation (activate, suspend, ...) on a user. */
  async apply(
    operation: AdminOperation,
    id: string,
    actor: Actor,
    options: { tempPassword?: boolean } = {},
  ): Promise<Result<LifecycleOutcome>> {
    const tempPassword = operation === 'expirePassword' && options.tempPassword ? temporaryPassword() : undefined
    const tempHash = tempPassword ? await hashPassword(tempPassword) : undefined
    const outcome = await this.run(async (unit) => {
      const now = new Date()
      const user = await this.load(unit, id)
      const writes: Writes = {}
      if (tempHash) Object.assign(writes, { passwordHash: tempHash, passwordChanged: now })
      if (operation === 'expirePassword') writes.passwordExpired = true
      if (operation === 'unlock') writes.failedSignIns = 0
      const changed = await this.changeStatus(unit, actor, user, operation, writes, now)
      if (tempPassword) unit.fact({ kind: 'passwordChanged', userId: user.id, password: tempPassword })
      return changed
    })
    return outcome.ok && tempPassword ? ok({ ...outcome.value, tempPassword }) : outcome
  }

  /** The end user completes activation or a password reset with a one-time token. */
  async setPassword(token: string, password: string, actor: Actor): Promise<Result<LifecycleOutcome>> {
    const passwordHash = await hashPassword(password)
    const invalidToken = domainError('INVALID_TOKEN', 'The token is unknown, already used, or expired.', ['token'])
    return this.run(async (unit) => {
      const now = new Date()
      const stored = await unit.tx.oneTimeToken.findFirst({
        where: { tokenHash: hashSecret(token) },
        include: { user: true },
      })
      if (!stored || stored.expiresAt <= now) return unit.abort(invalidToken)
      const operation: UserOperation = stored.purpose === 'ACTIVATION' ? 'completeActivation' : 'completeReset'
      await unit.tx.oneTimeToken.deleteMany({ where: { userId: stored.userId, purpose: stored.purpose } })
      const changed = await this.changeStatus(
        unit,
        actor,
        stored.user,
        operation,
        { passwordHash, passwordChanged: now, passwordExpired: false, failedSignIns: 0 },
        now,
      )
      unit.fact({ kind: 'passwordChanged', userId: stored.userId, password })
      return changed
    })
  }

  /** The end user replaces their password, proving the current one (also how an expired password is renewed). */
  async changePassword(login: string, current: string, next: string, actor: Actor): Promise<Result<LifecycleOutcome>> {
    const user = await this.deps.store.prisma.user.findUnique({ where: { login } })
    if (!user?.passwordHash || !(await verifyPassword(current, user.passwordHash))) {
      if (!user?.passwordHash) await spendDecoyVerification(current)
      return fail(domainError('AUTHENTICATION_FAILED', 'The login or current password is wrong.', ['currentPassword']))
    }
    const passwordHash = await hashPassword(next)
    return this.run(async (unit) => {
      const now = new Date()
      const changed = await this.changeStatus(
        unit,
        actor,
        user,
        'changePassword',
        { passwordHash, passwordChanged: now, passwordExpired: false, failedSignIns: 0 },
        now,
      )
      unit.fact({ kind: 'passwordChanged', userId: user.id, password: next })
      return changed
    })
  }

  /**
   * Verifies a password. Failures count toward the lockout policy; reaching it locks the user.
   * Every outcome is logged as an event; the hash check runs outside the transaction.
   */
  async authenticate(login: string, password: string, actor: Actor): Promise<Result<SignInOutcome>> {
    const user = await this.deps.store.prisma.user.findUnique({ where: { login } })
    if (!user || !user.passwordHash || !isAllowed('signIn', user.status)) {
      if (!user?.passwordHash) await spendDecoyVerification(password)
      if (user) await this.recordSignIn(actor, user, 'FAILURE', `user is ${user.status}`)
      return fail(SIGN_IN_REFUSED)
    }
    if (await verifyPassword(password, user.passwordHash)) {
      const signedIn = await this.run(async (unit) => {
        const now = new Date()
        // domain.md 1.5: a sign-in with an expired password makes an ACTIVE user PASSWORD_EXPIRED. The
        // password stays expired when the user left PASSWORD_EXPIRED without changing it (locked out, unlocked).
        const current =
          user.passwordExpired && user.status === 'ACTIVE'
            ? (await this.changeStatus(unit, actor, user, 'expirePassword', {}, now)).user!
            : user
        return this.changeStatus(unit, actor, current, 'signIn', { lastLogin: now, failedSignIns: 0 }, now)
      })
      if (!signedIn.ok) return fail(SIGN_IN_REFUSED)
      const current = signedIn.value.user!
      return ok({ success: true, passwordChangeRequired: current.status === 'PASSWORD_EXPIRED', user: current })
    }
    await this.run(async (unit) => {
      const counted = await unit.tx.user.update({ where: { id: user.id }, data: { failedSignIns: { increment: 1 } } })
      if (counted.failedSignIns >= this.deps.config.LOCKOUT_MAX_ATTEMPTS && isAllowed('lockOut', counted.status)) {
        return this.changeStatus(unit, actor, counted, 'lockOut', {}, new Date(), {
          failedSignIns: counted.failedSignIns,
        })
      }
      unit.record(signInEvent(actor, counted, 'FAILURE', 'wrong password'))
      return { user: counted }
    })
    return fail(SIGN_IN_REFUSED)
  }

  private async recordSignIn(actor: Actor, user: UserRow, result: 'FAILURE', reason: string) {
    await this.run(async (unit) => unit.record(signInEvent(actor, user, result, reason)))
  }

  /** Reads the user under its lock (store/locks.ts): a concurrent change waits, then sees this one's outcome. */
  private async load(unit: UnitOfWork, id: string): Promise<UserRow> {
    const [user] = await userRows.lock(unit.sql, [id])
    return user ?? unit.abort(notFound(id))
  }

  /**
   * Applies one operation of the status machine as a compare-and-set on the status the
   * machine was asked about: a concurrent change makes this one fail with CONFLICT.
   */
  private async changeStatus(
    unit: UnitOfWork,
    actor: Actor,
    user: UserRow,
    operation: UserOperation,
    writes: Writes,
    now: Date,
    details: Record<string, unknown> = {},
  ): Promise<LifecycleOutcome> {
    const step = transition(operation, {
      status: user.status,
      hasPassword: Boolean(writes.passwordHash ?? user.passwordHash),
    })
    if (!step.ok) return unit.abort(step.error)
    const target = userTarget(user)
    const change: StatusChangeData = { previousStatus: step.from, status: step.to === 'DELETED' ? step.from : step.to }
    for (const type of eventTypesFor(operation, step.to))
      unit.record({ type, actor, targets: [target], data: { ...change, ...details } })

    if (step.to === 'DELETED') {
      if (!(await userRows.deleteIfStatus(unit.sql, user.id, step.from)))
        await this.abortConcurrent(unit, user.id, operation)
      return { user: null }
    }
    const to = step.to
    const outcome: LifecycleOutcome = { user: null }
    const sideEffects: Writes = {}
    if (to === 'DEPROVISIONED' || (operation === 'reactivate' && user.status === 'RECOVERY')) {
      // Deactivation deletes the password for good; a restarted activation starts without one.
      Object.assign(sideEffects, { passwordHash: null, passwordExpired: false, failedSignIns: 0 })
      await oneTimeTokenRows.deleteAll(unit.sql, user.id)
    }
    if (to === 'PROVISIONED' && operation !== 'updateProfile') {
      outcome.activationToken = await this.issueToken(unit.sql, user.id, 'ACTIVATION', now)
    }
    if (operation === 'resetPassword')
      outcome.resetToken = await this.issueToken(unit.sql, user.id, 'RESET_PASSWORD', now)

    const statusChanges = to !== step.from
    const updated = await userRows.updateIfStatus(unit.sql, user.id, step.from, {
      ...sideEffects,
      ...writes,
      status: to,
      lastUpdated: now,
      ...(statusChanges ? { statusChanged: now } : {}),
      ...(statusChanges && to === 'ACTIVE' ? { activated: now } : {}),
    })
    outcome.user = updated ?? (await this.abortConcurrent(unit, user.id, operation))
    if (statusChanges) unit.fact({ kind: 'statusChanged', user: outcome.user, from: step.from, to, actor })
    if (operation === 'updateProfile') unit.fact({ kind: 'profileChanged', user: outcome.user, actor })
    return outcome
  }

  private async abortConcurrent(unit: UnitOfWork, id: string, operation: UserOperation): Promise<never> {
    const current = await unit.tx.user.findFirst({ where: { id }, select: { status: true } })
    if (!current) return unit.abort(notFound(id))
    return unit.abort(
      domainError(
        'CONFLICT',
        `The user changed concurrently (now ${current.status}); ${MUTATION_OF[operation]} was not applied.`,
      ),
    )
  }

  private async issueToken(sql: Sql, userId: string, purpose: OneTimeTokenPurpose, now: Date) {
    const { ACTIVATION_TOKEN_TTL_HOURS, RESET_TOKEN_TTL_MINUTES } = this.deps.config
    const ttlMs = purpose === 'ACTIVATION' ? ACTIVATION_TOKEN_TTL_HOURS * 3_600_000 : RESET_TOKEN_TTL_MINUTES * 60_000
    const token = newSecret(purpose === 'ACTIVATION' ? 'act' : 'rst')
    await oneTimeTokenRows.replace(sql, {
      tokenHash: hashSecret(token),
      userId,
      purpose,
      expiresAt: new Date(now.getTime() + ttlMs),
      created: now,
    })
    return token
  }

  private run<T>(work: (unit: UnitOfWork) => Promise<T>): Promise<Result<T>> {
    // The unique index on login decides, also between two concurrent creates.
    return runUseCase(this.deps.store, this.deps.publish, work, LOGIN_TAKEN)
  }
}

function signInEvent(actor: Actor, user: UserRow, result: 'SUCCESS' | 'FAILURE', reason?: string): EventDraft {
  return { type: 'user.session.start', actor, targets: [userTarget(user)], outcome: { result, reason } }
}
