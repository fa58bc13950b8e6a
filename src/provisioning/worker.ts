import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { featureOf, type StoredFeatures, type UserProvisioningCapabilities } from '../apps/features'
import { appUserRows } from '../apps/app-user-rows'
import type { StoredEvent } from '../events/event-log'
import type { AppUser, Prisma } from '../generated/prisma/client'
import type { Logger } from '../logger'
import type { Database } from '../store/database'
import type { Store } from '../store/transaction'
import { userRows } from '../users/user-rows'
import { jobRows } from './job-rows'
import { runJob, type AttemptRecord, type JobOutcome } from './job-runner'
import { settleJobs, type FinishedJob } from './job-settlement'
import { PROVISIONING_CHANNEL } from './outbox'
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

/** A failed settlement is retried this many times before its jobs are left to expire and run again. */
const SETTLE_TRIES = 3
const SETTLE_RETRY_MS = 1_000

export class ProvisioningWorker {
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  private readonly now: () => Date
  private readonly random: () => number
  /** Jobs whose requests are in flight, by job id. */
  private readonly running = new Map<bigint, { appId: string; done: Promise<void> }>()
  /** Jobs done downstream, waiting to be settled. */
  private readonly unsettled = new Map<bigint, FinishedJob & { tries: number }>()
  private claiming: Promise<void> | null = null
  private claimAgain = false
  private settling: Promise<void> | null = null
  private stopped = false
  private timers: NodeJS.Timeout[] = []
  private unlisten: () => Promise<void> = async () => {}

  constructor(private readonly deps: WorkerDependencies) {
    this.now = deps.now ?? (() => new Date())
    this.random = deps.random ?? Math.random
  }

  async start(): Promise<void> {
    const { settings } = this.deps
    this.unlisten = await this.deps.db.listen(PROVISIONING_CHANNEL, () => this.wake())
    this.timers = [
      setInterval(() => this.wake(), settings.pollMs),
      setInterval(() => void this.heartbeat(), (settings.leaseSeconds * 1000) / 3),
    ]
    for (const timer of this.timers) timer.unref()
    this.wake()
  }

  /** Looks for work now (after a commit that queued some, or when a slot frees up). */
  wake(): void {
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
          this.wake()
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
    await this.settling
    await this.flush()
    const unfinished = [...this.running.keys(), ...this.unsettled.keys()]
    if (unfinished.length) {
      await this.deps.db.transaction((sql) => jobRows.release(sql, unfinished, this.id))
      this.deps.logger.warn({ jobs: unfinished.length }, 'provisioning: released unfinished jobs to other workers')
    }
  }

  /** Jobs this worker holds right now (running or waiting to be settled). */
  get held(): number {
    return this.running.size + this.unsettled.size
  }

  private async fill(): Promise<void> {
    const { settings } = this.deps
    while (!this.stopped) {
      const free = settings.concurrency - this.running.size
      if (free <= 0) return
      const inFlight = new Map<string, number>()
      for (const { appId } of this.running.values()) inFlight.set(appId, (inFlight.get(appId) ?? 0) + 1)
      const roomPerApp = new Map([...inFlight].map(([appId, count]) => [appId, settings.perApp - count]))
      const jobs = await this.deps.db.transaction((sql) =>
        jobRows.claim(sql, {
          workerId: this.id,
          limit: free,
          leaseSeconds: settings.leaseSeconds,
          now: this.now(),
          roomPerApp,
          perApp: settings.perApp,
        }),
      )
      if (jobs.length === 0) return
      await this.launch(jobs)
      if (jobs.length < free) return
    }
  }

  /** Reads what the jobs need, marks their app users SYNCING and starts their requests. */
  private async launch(jobs: ClaimedJob[]): Promise<void> {
    const appUsers = await this.deps.db.prisma.appUser.findMany({
      where: { id: { in: jobs.map((job) => job.appUserId) } },
      include: { user: true, app: true },
    })
    const byId = new Map(appUsers.map((row) => [row.id, row]))
    const syncing = await this.deps.db.transaction(async (sql) => {
      await userRows.lock(sql, [...new Set(jobs.map((job) => job.userId))])
      return appUserRows.markSyncing(sql, [...byId.keys()], this.now())
    })
    if (syncing.length) this.deps.onSyncing?.(syncing)
    for (const job of jobs) {
      const context = byId.get(job.appUserId)
      const done = this.run(job, context).then((outcome) => {
        for (const attempt of outcome.attempts) this.deps.onAttempt?.(job.appId, attempt)
        this.running.delete(job.id)
        this.unsettled.set(job.id, { job, outcome, tries: 0 })
        void this.flush()
        this.wake()
      })
      this.running.set(job.id, { appId: job.appId, done })
    }
  }

  private async run(job: ClaimedJob, context: JobContext | undefined): Promise<JobOutcome> {
    // The app user (or its app) was deleted after the job was claimed: the job went with it.
    if (!context) return { attempts: [], result: { kind: 'SKIPPED', reason: 'the app user is gone' } }
    const { app, user } = context
    const unavailable = (why: string): JobOutcome => ({
      attempts: [],
      result: {
        kind: 'FAILED',
        summary: `Automatic provisioning of user ${user.login} to app ${app.label} failed: ${why}`,
        causes: [why],
        event: 'application.integration.general_failure',
        httpStatus: null,
        pauseAppUntil: null,
      },
    })
    if (app.provisioningStatus !== 'ENABLED') return unavailable('provisioning is not enabled for the app')
    let client: ScimClient
    try {
      client = new ScimClient(scimConnectionOf(app, this.deps.secrets, this.deps.settings.timeoutMs))
    } catch (error) {
      return unavailable((error as Error).message)
    }
    const capabilities = featureOf((app.features ?? {}) as StoredFeatures, 'USER_PROVISIONING')
      .capabilities as UserProvisioningCapabilities
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
        if (this.unsettled.size && !this.stopped) void this.flush()
      })
    return this.settling
  }

  private async heartbeat(): Promise<void> {
    const ids = [...this.running.keys(), ...this.unsettled.keys()]
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
