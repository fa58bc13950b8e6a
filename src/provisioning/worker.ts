import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { isWithdrawn, type AppUserStatus } from '../apps/app-user-rules'
import { featureOf, type StoredFeatures, type UserProvisioningCapabilities } from '../apps/features'
import { appRows } from '../apps/app-rows'
import { appUserRows } from '../apps/app-user-rows'
import type { StoredEvent } from '../events/event-log'
import type { AppUser, Prisma } from '../generated/prisma/client'
import type { Logger } from '../logger'
import type { Database } from '../store/database'
import type { Store } from '../store/transaction'
import { userRows } from '../users/user-rows'
import { jobRows } from './job-rows'
import { failedUnsent, runJob, type AttemptRecord, type JobOutcome } from './job-runner'
import { settleJobs, type FinishedJob } from './job-settlement'
import { PROVISIONING_CHANNEL, readNotice } from './outbox'
import { scimConnectionOf } from './connection'
import { ScimClient } from './scim-client'
import type { SecretBox } from './secrets'

/**
 * The provisioning worker: claims due jobs, runs them against each app's SCIM downstream and
 * settles what they did. Several workers (in servers and `npm run worker` processes) share one
 * queue: a job is leased to one of them at a time (job-rows.ts), and a job whose worker died is
 * taken over once its lease expires. Woken by NOTIFY when work commits, and by a poll for retries
 * that come due.
 */
export interface WorkerSettings {
  /** Requests in flight in this process; 0 turns the worker off. */
  concurrency: number
  /** Requests in flight per app in this process, so one slow downstream never takes every slot. */
  perApp: number
  leaseSeconds: number
  maxAttempts: number
  timeoutMs: number
  pollMs: number
}

export interface WorkerDependencies {
  db: Pick<Database, 'transaction' | 'listen' | 'prisma'>
  store: Store
  publish: (events: StoredEvent[]) => void
  /** Opens the sealed secrets: the connection token, a PASSWORD job's password. */
  secrets: Pick<SecretBox, 'open'>
  /** Called with every request a job sent (metrics). */
  onAttempt?: (appId: string, attempt: AttemptRecord) => void
  /** Called with app users the worker marked SYNCING (a change that records no event). */
  onSyncing?: (appUsers: AppUser[]) => void
  logger: Logger
  settings: WorkerSettings
  now?: () => Date
  random?: () => number
}

type ClaimedJob = Awaited<ReturnType<typeof jobRows.claim>>[number]
/** What a job is run with: its app user, with the user and the app. */
type JobContext = Prisma.AppUserGetPayload<{ include: { user: true; app: true } }>
/** `checked`: the withdrawal notices this worker had received when the job's app user was last read. */
type ReadyJob = { job: ClaimedJob; context: JobContext; checked: number }
type Downstream = { client: ScimClient; capabilities: UserProvisioningCapabilities } | { error: string }

/** A failed settlement is retried this many times before its jobs are left to expire and run again. */
const SETTLE_TRIES = 3
const SETTLE_RETRY_MS = 1_000
/**
 * Finished jobs wait up to this long for others, so that one transaction settles several: a
 * settlement costs about the same statements for one job as for eight, and on the embedded
 * database each statement is CPU in this process (at 20 ms a settlement took about five jobs; at
 * 100 ms, `bench provision` settles about 90 jobs a transaction, and its ratio rose 0.54 -> 0.61).
 */
const SETTLE_LINGER_MS = 100

/**
 * Each process keeps claimed jobs ready beside the ones running: up to READY_FACTOR times
 * `concurrency` in all and `perApp` per app, refilled in one claim once fewer than half a slot's
 * worth of them could start. A freed slot then starts the next job at once, and one claim serves
 * many jobs. Ready jobs of an app at its limit do not count: a slow app never keeps the others
 * from being claimed. Ready jobs are leased like running ones: heartbeaten, released on shutdown.
 * A claim and its preparation cost nearly the same for 16 jobs as for 32: at 8 (claims of 16
 * jobs of one app) the embedded `bench provision` spent 1.2 ms of the server's thread per app
 * user, at 16 (claims of 32) 1.0 ms.
 */
const READY_FACTOR = 16

/** The longest delay setTimeout takes (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1

/** A job withdrawn before it was sent: nothing went downstream. */
const WITHDRAWN_OUTCOME: JobOutcome = { attempts: [], result: { kind: 'WITHDRAWN' } }
/** A job of an app paused before it was sent: back to the queue. */
const HANDED_BACK_OUTCOME: JobOutcome = { attempts: [], result: { kind: 'HANDED_BACK' } }

/**
 * What a claimed, unsent job whose app user and app were just read ends as, if it must not start:
 * withdrawn (its app user lost the app, or is gone), or handed back to the queue (its app was paused).
 */
function unstartable(
  job: ClaimedJob,
  appUser: { status: AppUserStatus } | null,
  app: { provisioningPaused: boolean } | null,
): JobOutcome | null {
  if (isWithdrawn(job.type, appUser)) return WITHDRAWN_OUTCOME
  return app?.provisioningPaused ? HANDED_BACK_OUTCOME : null
}

/** How many of these jobs each app has. */
function countByApp(...jobs: Iterable<{ appId: string }>[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const group of jobs) for (const { appId } of group) counts.set(appId, (counts.get(appId) ?? 0) + 1)
  return counts
}

export class ProvisioningWorker {
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  private readonly now: () => Date
  private readonly random: () => number
  /** Claimed jobs waiting for a slot, oldest first. */
  private ready: ReadyJob[] = []
  /** Jobs whose requests are in flight, by job id. */
  private readonly running = new Map<bigint, { appId: string; done: Promise<void> }>()
  /** Jobs done downstream, waiting to be settled. */
  private readonly unsettled = new Map<bigint, FinishedJob & { tries: number }>()
  private claiming: Promise<void> | null = null
  private claimAgain = false
  /**
   * Set when a claim took fewer jobs than it asked for: the queue held nothing more this worker
   * could take then, beyond the apps named here (those it held or took jobs of, each limited to its
   * room). Until new work may have come (a wake), claiming again is worth it only once one of these
   * apps has room for half its ready jobs: without this, every finished job would scan the queue
   * for work that is not there (a single busy app keeps the other slots idle), and each claim
   * would take one job.
   */
  private drained: ReadonlySet<string> | null = null
  /** Counts wakes, so that a claim that raced with one does not mark the queue drained. */
  private wakes = 0
  /**
   * Counts WITHDRAWN and PAUSED notices (work was cancelled, or an app paused, that this worker may
   * hold claimed), with the latest notice that named each app user or app, or all of them. A ready
   * job read before a notice naming its app user or app is not started until it is read again
   * (recheck).
   */
  private notices = 0
  private readonly withdrawnAt = new Map<string, number>()
  private readonly pausedAt = new Map<string, number>()
  private allWithdrawnAt = 0
  /** The `checked` of the jobs a claim is preparing, while it does. */
  private preparing: number | null = null
  private rechecking = false
  /**
   * Apps a 429 holds, until when (ms): their ready jobs wait too, as their queued ones do (the claim
   * skips them), so that the hold pauses the app's whole queue, not only the jobs not yet claimed.
   */
  private readonly heldUntil = new Map<string, number>()
  private settling: Promise<void> | null = null
  private linger: NodeJS.Timeout | undefined
  private stopped = false
  private timers: NodeJS.Timeout[] = []
  private unlisten: () => Promise<void> = async () => {}
  /** Per app row read by a claim: held only while that claim's jobs hold the row. */
  private readonly downstreams = new WeakMap<JobContext['app'], Downstream>()

  constructor(private readonly deps: WorkerDependencies) {
    this.now = deps.now ?? (() => new Date())
    this.random = deps.random ?? Math.random
  }

  async start(): Promise<void> {
    const { settings } = this.deps
    this.unlisten = await this.deps.db.listen(PROVISIONING_CHANNEL, (payload) => {
      // No payload: the listener reconnected and may have missed any notification.
      const notice = payload === undefined ? null : readNotice(payload)
      if (notice?.kind === 'paused') return this.noticePause(notice.appId)
      if (notice?.kind !== 'queued') this.noticeWithdrawal(notice?.appUserIds ?? null)
      if (notice?.kind !== 'withdrawn') this.wake()
    })
    this.timers = [
      setInterval(() => this.wake(), settings.pollMs),
      setInterval(() => void this.heartbeat(), (settings.leaseSeconds * 1000) / 3),
    ]
    for (const timer of this.timers) timer.unref()
    this.wake()
  }

  /** Looks for work now: new work may have come (a commit that queued some, a retry come due). */
  wake(): void {
    this.wakes++
    this.drained = null
    this.refill()
  }

  /** Work was withdrawn from these app users (null: any): their ready jobs wait until they are read again. */
  private noticeWithdrawal(appUserIds: string[] | null): void {
    this.notices++
    if (appUserIds) for (const id of appUserIds) this.withdrawnAt.set(id, this.notices)
    else this.allWithdrawnAt = this.notices
    this.dispatch()
  }

  /** The app was paused: its ready jobs wait until it is read again. */
  private noticePause(appId: string): void {
    this.pausedAt.set(appId, ++this.notices)
    this.dispatch()
  }

  /** Read before a notice that named its app user or its app. */
  private isStale({ job, checked }: ReadyJob): boolean {
    return (
      checked < this.allWithdrawnAt ||
      checked < (this.withdrawnAt.get(job.appUserId) ?? 0) ||
      checked < (this.pausedAt.get(job.appId) ?? 0)
    )
  }

  /** Forgets notices that no job held or being prepared was read before. */
  private forgetOldNotices(): void {
    if (this.withdrawnAt.size === 0 && this.pausedAt.size === 0) return
    const oldest = Math.min(this.preparing ?? Infinity, ...this.ready.map(({ checked }) => checked))
    for (const notices of [this.withdrawnAt, this.pausedAt])
      for (const [id, at] of notices) if (at <= oldest) notices.delete(id)
  }

  /** Settles unsent, with their outcomes, the jobs that must not start (`unstartable`). */
  private settleUnsent(jobs: { job: ClaimedJob; outcome: JobOutcome }[]): void {
    if (jobs.length === 0) return
    const ids = new Set(jobs.map(({ job }) => job.id))
    this.ready = this.ready.filter(({ job }) => !ids.has(job.id))
    for (const { job, outcome } of jobs) this.unsettled.set(job.id, { job, outcome, tries: 0 })
    this.scheduleFlush()
  }

  /** Claims more jobs if the ready ones run low (after a job started or finished). */
  private refill(): void {
    if (this.stopped) return
    if (this.claiming) {
      this.claimAgain = true
      return
    }
    this.claiming = this.fill()
      .catch((error: unknown) => this.deps.logger.error({ err: error }, 'provisioning: claiming jobs failed'))
      .finally(() => {
        this.claiming = null
        if (this.claimAgain) {
          this.claimAgain = false
          this.refill()
        }
      })
  }

  /**
   * Stops claiming, lets in-flight requests finish until `deadline`, settles what finished and
   * hands back the rest (their leases are released, so another worker takes them at once).
   */
  async stop(deadline: Date): Promise<void> {
    this.stopped = true
    for (const timer of this.timers) clearInterval(timer)
    await this.unlisten()
    await this.claiming
    const left = deadline.getTime() - Date.now()
    let timeout: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all([...this.running.values()].map((entry) => entry.done)),
      new Promise((resolve) => (timeout = setTimeout(resolve, Math.max(0, left)))),
    ])
    clearTimeout(timeout)
    clearTimeout(this.linger)
    await this.settling
    await this.flush()
    const unfinished = [...this.ready.map(({ job }) => job.id), ...this.running.keys(), ...this.unsettled.keys()]
    this.ready = []
    if (unfinished.length) {
      await this.deps.db.transaction((sql) => jobRows.release(sql, unfinished, this.id))
      this.deps.logger.warn({ jobs: unfinished.length }, 'provisioning: released unfinished jobs to other workers')
    }
  }

  /** Jobs this worker holds right now (ready, running or waiting to be settled). */
  get held(): number {
    return this.ready.length + this.running.size + this.unsettled.size
  }

  private async fill(): Promise<void> {
    const { concurrency, perApp, leaseSeconds } = this.deps.settings
    while (!this.stopped) {
      const wanted = READY_FACTOR * concurrency - this.running.size - this.ready.length
      // A claim is worth its statements once it may take half a slot's worth of jobs: below that,
      // an app at its limit holding ready jobs would make every freed slot claim one job.
      if (this.startable() * 2 >= concurrency || wanted <= 0 || wanted * 2 < concurrency) return
      const held = countByApp(
        this.running.values(),
        this.ready.map(({ job }) => job),
      )
      const roomOf = (appId: string) => READY_FACTOR * perApp - (held.get(appId) ?? 0)
      const refillAt = (READY_FACTOR * perApp) / 2
      if (this.drained && ![...this.drained].some((appId) => roomOf(appId) >= refillAt)) return
      // An app still holding over half its share is not topped up: a claim of its last few jobs
      // costs as many statements as one of many, and its ready jobs keep its slots busy meanwhile.
      const roomPerApp = new Map(
        [...held.keys()].map((appId) => [appId, roomOf(appId) >= refillAt ? roomOf(appId) : 0]),
      )
      const wakes = this.wakes
      const jobs = await this.deps.db.transaction((sql) =>
        jobRows.claim(sql, {
          workerId: this.id,
          limit: wanted,
          leaseSeconds,
          now: this.now(),
          roomPerApp,
          perApp: READY_FACTOR * perApp,
        }),
      )
      const drained = jobs.length < wanted
      // The apps that may hold more than this claim could take: those limited by their room,
      // which includes every app it took jobs of (the first claim of an app takes up to its room).
      if (drained && wakes === this.wakes)
        this.drained = new Set([...roomPerApp.keys(), ...jobs.map((job) => job.appId)])
      if (jobs.length === 0) return
      // Read `ready` after the await: dispatch may have replaced it meanwhile.
      const prepared = await this.prepare(jobs)
      // The app user lost the app (or it, or its app, was deleted), or the app was paused, between
      // the claim and this read.
      const unsent = prepared.flatMap(({ job, context }) => {
        const outcome = unstartable(job, context ?? null, context?.app ?? null)
        return outcome ? [{ job, outcome }] : []
      })
      this.settleUnsent(unsent)
      const settled = new Set(unsent.map(({ job }) => job.id))
      this.ready.push(...prepared.filter((next): next is ReadyJob => !settled.has(next.job.id)))
      this.dispatch()
      if (drained) return
    }
  }

  /**
   * Reads what the jobs need and marks their app users SYNCING, in one transaction under the
   * users' locks (store/locks.ts), hand-written: it runs for every claim.
   */
  private async prepare(jobs: ClaimedJob[]): Promise<(Omit<ReadyJob, 'context'> & { context?: JobContext })[]> {
    const now = this.now()
    const checked = (this.preparing = this.notices)
    const { contexts, syncing } = await this.deps.db
      .transaction(async (sql) => {
        const users = new Map(
          (await userRows.lock(sql, [...new Set(jobs.map((job) => job.userId))])).map((user) => [user.id, user]),
        )
        const apps = new Map(
          (await appRows.byIds(sql, [...new Set(jobs.map((job) => job.appId))])).map((app) => [app.id, app]),
        )
        const appUsers = await appUserRows.readMarkingSyncing(
          sql,
          jobs.map((job) => job.appUserId),
          now,
        )
        const contexts = new Map<string, JobContext>()
        const syncing: AppUser[] = []
        for (const { marked, ...appUser } of appUsers) {
          if (marked) syncing.push(appUser)
          const user = users.get(appUser.userId)
          const app = apps.get(appUser.appId)
          if (user && app) contexts.set(appUser.id, { ...appUser, user, app })
        }
        return { contexts, syncing }
      })
      .finally(() => (this.preparing = null))
    if (syncing.length) this.deps.onSyncing?.(syncing)
    return jobs.map((job) => ({ job, context: contexts.get(job.appUserId), checked }))
  }

  /** Ready jobs whose app is below its limit: those a freed slot could start. */
  private startable(): number {
    const inFlight = countByApp(this.running.values())
    return this.ready.filter(
      ({ job }) => (inFlight.get(job.appId) ?? 0) < this.deps.settings.perApp && !this.isHeld(job.appId),
    ).length
  }

  /** Whether a 429 holds the app now (a hold that has ended is forgotten). */
  private isHeld(appId: string): boolean {
    const until = this.heldUntil.get(appId)
    if (until === undefined) return false
    if (until > this.now().getTime()) return true
    this.heldUntil.delete(appId)
    return false
  }

  /** A job's 429 holds its app's ready jobs until the hold ends, when they are dispatched. */
  private holdApp(appId: string, { result }: JobOutcome): void {
    const until = (result.kind === 'RETRY_SCHEDULED' || result.kind === 'FAILED') && result.pauseAppUntil
    if (!until || until.getTime() <= (this.heldUntil.get(appId) ?? 0)) return
    this.heldUntil.set(appId, until.getTime())
    // In steps a timer can take (Retry-After is the downstream's to choose).
    const dispatchWhenOver = () => {
      const left = until.getTime() - this.now().getTime()
      if (left > 0) setTimeout(dispatchWhenOver, Math.min(left, MAX_TIMER_MS)).unref()
      else this.dispatch()
    }
    dispatchWhenOver()
  }

  /**
   * Starts ready jobs while slots are free, oldest first, skipping apps at their per-app limit or
   * held by a 429, and jobs read before a notice naming their app user or app (those are read again
   * first).
   */
  private dispatch(): void {
    const { concurrency, perApp } = this.deps.settings
    const inFlight = countByApp(this.running.values())
    const waiting: ReadyJob[] = []
    for (const next of this.ready) {
      const appId = next.job.appId
      if (
        this.stopped ||
        this.isStale(next) ||
        this.isHeld(appId) ||
        this.running.size >= concurrency ||
        (inFlight.get(appId) ?? 0) >= perApp
      ) {
        waiting.push(next)
        continue
      }
      inFlight.set(appId, (inFlight.get(appId) ?? 0) + 1)
      this.launch(next)
    }
    this.ready = waiting
    if (waiting.some((next) => this.isStale(next))) this.recheck()
    else this.forgetOldNotices()
    this.refill()
  }

  /**
   * Reads again the app users and apps of ready jobs read before a notice that named them, in one
   * transaction: a job that must not start now (`unstartable`) is settled unsent, the others may
   * start. One recheck at a time; a notice that comes during it makes another.
   */
  private recheck(): void {
    if (this.rechecking || this.stopped) return
    this.rechecking = true
    const notices = this.notices
    const stale = this.ready.filter((next) => this.isStale(next))
    this.deps.db
      .transaction(async (sql) => ({
        appUsers: await appUserRows.byIds(
          sql,
          stale.map(({ job }) => job.appUserId),
        ),
        apps: await appRows.byIds(sql, [...new Set(stale.map(({ job }) => job.appId))]),
      }))
      .then(
        ({ appUsers, apps }) => {
          const appUserOf = new Map(appUsers.map((row) => [row.id, row]))
          const appOf = new Map(apps.map((row) => [row.id, row]))
          // Jobs started or handed back meanwhile are not this recheck's to settle.
          const still = new Set(this.ready)
          const unsent: { job: ClaimedJob; outcome: JobOutcome }[] = []
          for (const next of stale) {
            if (!still.has(next)) continue
            next.checked = notices
            const { job } = next
            const outcome = unstartable(job, appUserOf.get(job.appUserId) ?? null, appOf.get(job.appId) ?? null)
            if (outcome) unsent.push({ job, outcome })
          }
          this.settleUnsent(unsent)
        },
        (error: unknown) => {
          this.deps.logger.error({ err: error }, 'provisioning: reading claimed jobs again failed')
          return new Promise<void>((resolve) => setTimeout(resolve, SETTLE_RETRY_MS).unref())
        },
      )
      .finally(() => {
        this.rechecking = false
        this.dispatch()
      })
  }

  private launch({ job, context }: ReadyJob): void {
    const done = this.run(job, context).then((outcome) => {
      for (const attempt of outcome.attempts) this.deps.onAttempt?.(job.appId, attempt)
      this.running.delete(job.id)
      this.unsettled.set(job.id, { job, outcome, tries: 0 })
      this.holdApp(job.appId, outcome)
      this.dispatch()
      this.scheduleFlush()
    })
    this.running.set(job.id, { appId: job.appId, done })
  }

  /**
   * Settles at once when every job the worker may hold has finished or none is running (no other
   * will finish soon), else after a short linger.
   */
  private scheduleFlush(): void {
    if (this.unsettled.size >= READY_FACTOR * this.deps.settings.concurrency || this.running.size === 0) {
      clearTimeout(this.linger)
      this.linger = undefined
      void this.flush()
    } else {
      this.linger ??= setTimeout(() => {
        this.linger = undefined
        void this.flush()
      }, SETTLE_LINGER_MS)
    }
  }

  private async run(job: ClaimedJob, context: JobContext): Promise<JobOutcome> {
    const { app, user } = context
    const unavailable = (why: string) => failedUnsent(job.type, user, app, why)
    if (app.provisioningStatus !== 'ENABLED') return unavailable('provisioning is not enabled for the app')
    const downstream = this.downstreamOf(app)
    if ('error' in downstream) return unavailable(downstream.error)
    const { client, capabilities } = downstream
    try {
      return await runJob(
        {
          type: job.type,
          attempts: job.attempts,
          password: job.secret ? this.deps.secrets.open(job.secret) : null,
          appUser: context,
          user,
          app,
          capabilities,
        },
        client,
        { maxAttempts: this.deps.settings.maxAttempts, now: this.now, random: this.random },
      )
    } catch (error) {
      this.deps.logger.error({ err: error, jobId: String(job.id) }, 'provisioning: job crashed')
      return unavailable('an internal error stopped the job')
    }
  }

  /**
   * The app's SCIM client and provisioning capabilities, made once per claim: the jobs of one app in
   * a claim share its row (prepare), so its token is opened once for them all, not once per job.
   */
  private downstreamOf(app: JobContext['app']): Downstream {
    let downstream = this.downstreams.get(app)
    if (!downstream) {
      try {
        downstream = {
          client: new ScimClient(scimConnectionOf(app, this.deps.secrets, this.deps.settings.timeoutMs)),
          capabilities: featureOf((app.features ?? {}) as StoredFeatures, 'USER_PROVISIONING')
            .capabilities as UserProvisioningCapabilities,
        }
      } catch (error) {
        downstream = { error: (error as Error).message }
      }
      this.downstreams.set(app, downstream)
    }
    return downstream
  }

  /** Settles every finished job in one transaction; one settlement at a time. */
  private flush(): Promise<void> {
    if (this.settling) return this.settling
    const batch = [...this.unsettled.values()]
    if (batch.length === 0) return Promise.resolve()
    this.settling = settleJobs(
      this.deps.store,
      this.deps.publish,
      this.id,
      batch.map(({ job, outcome }) => ({ job, outcome })),
      this.now(),
    )
      .then(
        () => batch.forEach(({ job }) => this.unsettled.delete(job.id)),
        (error: unknown) => {
          this.deps.logger.error({ err: error, jobs: batch.length }, 'provisioning: settling jobs failed')
          for (const entry of batch) {
            // Past its tries a job is dropped: its lease expires and a worker runs it again.
            if (++entry.tries >= SETTLE_TRIES) this.unsettled.delete(entry.job.id)
          }
          return new Promise<void>((resolve) => setTimeout(resolve, SETTLE_RETRY_MS).unref())
        },
      )
      .finally(() => {
        this.settling = null
        if (this.unsettled.size && !this.stopped) this.scheduleFlush()
      })
    return this.settling
  }

  private async heartbeat(): Promise<void> {
    const ids = [...this.ready.map(({ job }) => job.id), ...this.running.keys(), ...this.unsettled.keys()]
    if (ids.length === 0 || this.stopped) return
    try {
      const kept = new Set(
        await this.deps.db.transaction((sql) =>
          jobRows.heartbeat(sql, ids, this.id, this.deps.settings.leaseSeconds, this.now()),
        ),
      )
      const lost = ids.filter((id) => !kept.has(id))
      if (lost.length) this.deps.logger.warn({ jobs: lost.map(String) }, 'provisioning: leases taken over')
    } catch (error) {
      this.deps.logger.error({ err: error }, 'provisioning: heartbeat failed')
    }
  }
}
