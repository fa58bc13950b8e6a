import { appTarget } from '../apps/app-service'
import { appUserRows } from '../apps/app-user-rows'
import { directAssignmentRows } from '../apps/direct-assignment-rows'
import { featureOf, type InboundProvisioningCapabilities, type StoredFeatures } from '../apps/features'
import { domainError, fail, ok, type DomainError, type Result } from '../errors'
import type { Actor, StoredEvent } from '../events/event-log'
import type { App, User } from '../generated/prisma/client'
import { newId } from '../store/ids'
import { lockGrantsExclusively } from '../store/locks'
import { runUseCase, type Store, type UnitOfWork } from '../store/transaction'
import type { Sql } from '../store/unit-connection'
import { displayNameOf } from '../users/profile'
import { eventTypesFor, transition } from '../users/status-machine'
import { userRows } from '../users/user-rows'
import { scimConnectionOf } from './connection'
import {
  accountOf,
  decidePage,
  lookupKeys,
  type Decision,
  type DownstreamAccount,
  type ImportAction,
  type MatchRules,
} from './import-matching'
import { ScimClient, type ScimFailure } from './scim-client'
import { outbox } from './outbox'
import { downstreamPages } from './scim-pages'
import type { SecretBox } from './secrets'

/** The payload lists at most this many outcomes (the first ones); the counts cover every account. */
export const IMPORT_RESULTS_LIMIT = 500

export type ImportCounts = Record<'created' | 'matched' | 'unmatched' | 'ambiguous' | 'unchanged' | 'errors', number>

const COUNTED: Record<ImportAction, keyof ImportCounts> = {
  CREATE: 'created',
  MATCH: 'matched',
  UNMATCHED: 'unmatched',
  AMBIGUOUS: 'ambiguous',
  UNCHANGED: 'unchanged',
  ERROR: 'errors',
}

export interface ImportReport {
  app: App
  dryRun: boolean
  counts: ImportCounts
  /** The first IMPORT_RESULTS_LIMIT decisions, in downstream order (with the created user's id). */
  results: Decision[]
  /** Why the import stopped before the last page; null when every page was read. */
  failure: DomainError | null
}

/**
 * An import-confirmed app user (domain.md 3.3): ACTIVE; SYNCHRONIZED only where the app masters
 * profiles, which no app here does (no PROFILE_MASTERING), hence DISABLED.
 */
const LINKED = { status: 'ACTIVE', syncState: 'DISABLED' } as const

const countsPlus = (counts: ImportCounts, decisions: Decision[]): ImportCounts => {
  const next = { ...counts }
  for (const decision of decisions) next[COUNTED[decision.action]] += 1
  return next
}

const noCounts = (): ImportCounts => ({ created: 0, matched: 0, unmatched: 0, ambiguous: 0, unchanged: 0, errors: 0 })

function downstreamFailure(failure: ScimFailure, page: number): DomainError {
  const answer =
    failure.kind === 'http' ? `HTTP ${failure.status}${failure.detail ? `: ${failure.detail}` : ''}` : failure.kind
  return domainError(
    'DOWNSTREAM_FAILED',
    `Reading page ${page} of the downstream accounts failed (${answer}); the pages before it stay imported.`,
    ['appId'],
  )
}

/** Why the app cannot import: its connection off (PROVISIONING_NOT_ENABLED), INBOUND_PROVISIONING off, the app INACTIVE. */
function importRefusal(app: App): DomainError | null {
  if (app.provisioningStatus !== 'ENABLED')
    return domainError(
      'PROVISIONING_NOT_ENABLED',
      `Provisioning is not enabled for the app instance ${app.label} (enable its provisioning connection first).`,
      ['appId'],
    )
  if (featureOf(app.features as StoredFeatures, 'INBOUND_PROVISIONING').status !== 'ENABLED')
    return domainError(
      'FEATURE_NOT_SUPPORTED',
      `INBOUND_PROVISIONING is not enabled for ${app.label}: enable it with updateAppFeature to import.`,
      ['appId'],
    )
  if (app.status !== 'ACTIVE')
    return domainError('INVALID_TRANSITION', `Cannot import into an app whose status is ${app.status}.`, ['appId'])
  return null
}

/**
 * Imports an app's downstream accounts (api.md importAppUsers; domain.md 3.3, 4.2): reads them a
 * page at a time and commits each page in its own transaction (set-based: a fixed number of
 * statements per page), so memory holds one page and a failure keeps the pages before it. A dry
 * run decides the same way in read-only transactions, sends only GETs and records nothing.
 */
export class ImportService {
  constructor(
    private readonly store: Store,
    private readonly publish: (events: StoredEvent[]) => void,
    private readonly secrets: Pick<SecretBox, 'open'>,
    private readonly timeoutMs: number,
  ) {}

  async importAppUsers(appId: string, dryRun: boolean, actor: Actor): Promise<Result<ImportReport>> {
    const app = await this.store.prisma.app.findFirst({ where: { id: appId } })
    if (!app) return fail(domainError('NOT_FOUND', `No app with id ${appId}.`, ['appId']))
    const refusal = importRefusal(app)
    if (refusal) return fail(refusal)
    const rules = (
      featureOf(app.features as StoredFeatures, 'INBOUND_PROVISIONING').capabilities as InboundProvisioningCapabilities
    ).importRules.userCreateAndMatch
    const client = new ScimClient(scimConnectionOf(app, this.secrets, this.timeoutMs))
    const target = [appTarget(app)]

    if (!dryRun) {
      const started = await this.run(async (unit) =>
        unit.record({ type: 'system.import.start', actor, targets: target, data: { appId } }),
      )
      if (!started.ok) return started
    }
    const report: ImportReport = { app, dryRun, counts: noCounts(), results: [], failure: null }
    let page = 0
    for await (const read of downstreamPages(client)) {
      page += 1
      if (!read.ok) {
        report.failure = downstreamFailure(read, page)
        break
      }
      const accounts = read.users.map(accountOf)
      const progress = { page, totalResults: read.totalResults, counts: report.counts }
      const decided = dryRun
        ? ok(await this.store.transaction((sql) => this.decide(sql, app, accounts, rules)))
        : await this.run((unit) => this.commitPage(unit, app, accounts, rules, progress, actor))
      if (!decided.ok) {
        report.failure = decided.errors[0]
        break
      }
      report.counts = countsPlus(report.counts, decided.value)
      report.results.push(...decided.value.slice(0, IMPORT_RESULTS_LIMIT - report.results.length))
    }
    if (!dryRun) await this.recordCompletion(app, report, actor)
    return ok(report)
  }

  /** What each account of the page becomes, read under the caller's transaction. */
  private async decide(sql: Sql, app: App, accounts: DownstreamAccount[], rules: MatchRules) {
    const linked = await appUserRows.linkedExternalIds(
      sql,
      app.id,
      accounts.map((account) => account.id),
    )
    const candidates = await userRows.importCandidates(sql, app.id, lookupKeys(accounts, rules))
    return decidePage(accounts, candidates, linked, rules)
  }

  /**
   * One page, one transaction: the users confirmed new are created (with createUser's cascades:
   * Everyone, group rules, group grants), then every confirmed account is linked: a direct grant,
   * and the app user ACTIVE with the account's id as externalId. A grant never queues a push for a
   * linked account: any job the cascades queued for it in this transaction is cancelled before commit.
   */
  private async commitPage(
    unit: UnitOfWork,
    app: App,
    accounts: DownstreamAccount[],
    rules: MatchRules,
    progress: { page: number; totalResults: number; counts: ImportCounts },
    actor: Actor,
  ): Promise<Decision[]> {
    // Grants of many users change: the exclusive gate stands for their locks (store/locks.ts), and
    // serializes concurrent imports of the app, so an account is linked once.
    await lockGrantsExclusively(unit.sql)
    // Each page adds many users that the page's grants and memberships then reference. A
    // connection keeps the foreign-key checks' plans made when the table was small (a first
    // import into a fresh directory: a sequential scan of User per referencing row, 80 ms per
    // insert of a 200-row page by page 50); planned for each check, they use the primary key.
    await unit.sql.query(`SET LOCAL plan_cache_mode = force_custom_plan`)
    const decisions = await this.decide(unit.sql, app, accounts, rules)
    const now = new Date()
    const created = await this.createUsers(unit, decisions, rules.autoActivateNewUsers, actor, now)
    const links = decisions.filter((decision) => decision.action === 'CREATE' || decision.action === 'MATCH')
    const userIds = links.map((decision) => decision.userId!)
    await directAssignmentRows.insertMany(unit.sql, app.id, userIds, now)
    const linked = await appUserRows.link(
      unit.sql,
      app.id,
      links.map((decision) => ({ id: newId('AppUser'), userId: decision.userId!, externalId: decision.account.id })),
      LINKED,
      now,
    )
    await outbox.cancelQueued(
      unit.sql,
      linked.map((row) => row.id),
    )
    const appUserOf = new Map(linked.map((row) => [row.userId, row.id]))
    const loginOf = new Map(created.map((user) => [user.id, user.login]))
    for (const decision of links) {
      const userId = decision.userId!
      unit.record({
        type: decision.action === 'CREATE' ? 'system.import.user.create' : 'system.import.user.match',
        actor,
        targets: [
          { id: userId, type: 'User', displayName: loginOf.get(userId) ?? null },
          appTarget(app),
          { id: appUserOf.get(userId)!, type: 'AppUser', displayName: null },
        ],
        data: {
          appId: app.id,
          userId,
          appUserId: appUserOf.get(userId),
          externalId: decision.account.id,
          userName: decision.account.userName,
          matchType: decision.matchType,
          status: LINKED.status,
          syncState: LINKED.syncState,
        },
      })
    }
    unit.record({
      type: 'system.import.progress',
      actor,
      targets: [appTarget(app)],
      data: {
        appId: app.id,
        page: progress.page,
        processed: Object.values(progress.counts).reduce((sum, count) => sum + count, 0) + decisions.length,
        totalResults: progress.totalResults,
        counts: countsPlus(progress.counts, decisions),
      },
    })
    return decisions
  }

  /**
   * Creates the users of the CREATE decisions in one statement, STAGED, or activated when the rules
   * say so: the status machine's `activate` from STAGED without a password, as createUser's
   * (PROVISIONED: the user finishes activation; an admin sends the token with reactivateUser). Their
   * creation is a `usersCreated` fact, followed before the accounts are linked.
   */
  private async createUsers(unit: UnitOfWork, decisions: Decision[], activate: boolean, actor: Actor, now: Date) {
    const creating = decisions.filter((decision) => decision.action === 'CREATE')
    if (creating.length === 0) return []
    const activation = activate ? transition('activate', { status: 'STAGED', hasPassword: false }) : null
    if (activation && !activation.ok) return unit.abort(activation.error)
    const status = activation?.ok ? activation.to : 'STAGED'
    const users = await userRows.insertMany(
      unit.sql,
      creating.map(({ account }) => ({
        id: newId('User'),
        status,
        login: account.userName,
        email: account.email!,
        firstName: account.firstName,
        lastName: account.lastName,
      })),
      now,
    )
    // RETURNING does not promise the input's order: the logins (unique in the page) pair them up.
    const idOf = new Map(users.map((user) => [user.login, user.id]))
    for (const decision of creating) decision.userId = idOf.get(decision.account.userName)!
    for (const user of users) this.recordCreation(unit, user, activate, actor)
    unit.fact({ kind: 'usersCreated', users, actor })
    await unit.settle()
    return users
  }

  private recordCreation(unit: UnitOfWork, user: User, activated: boolean, actor: Actor) {
    const targets = [{ id: user.id, type: 'User', displayName: displayNameOf(user) }]
    unit.record({ type: 'user.lifecycle.create', actor, targets, data: { status: 'STAGED' } })
    if (!activated) return
    for (const type of eventTypesFor('activate', user.status as 'PROVISIONED'))
      unit.record({ type, actor, targets, data: { previousStatus: 'STAGED', status: user.status } })
  }

  private async recordCompletion(app: App, report: ImportReport, actor: Actor) {
    await this.run(async (unit) =>
      unit.record({
        type: 'system.import.complete',
        actor,
        targets: [appTarget(app)],
        outcome: report.failure ? { result: 'FAILURE', reason: report.failure.message } : { result: 'SUCCESS' },
        data: { appId: app.id, counts: report.counts, failure: report.failure?.code ?? null },
      }),
    )
  }

  private run<T>(work: (unit: UnitOfWork) => Promise<T>): Promise<Result<T>> {
    return runUseCase(this.store, this.publish, work)
  }
}
