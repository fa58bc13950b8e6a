import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { Database } from '../store/database'
import type { AttemptRecord } from './job-runner'

/**
 * The provisioning engine's Prometheus metrics. Attempts and latency are counted by the process
 * that sent them; the queue gauges read the shared queue, so every process reports the same depth.
 * Apps are labelled by id: a set bounded by the apps an administrator creates.
 */
export function provisioningMetrics(registry: Registry, db: Pick<Database, 'prisma'>) {
  const attempts = new Counter({
    name: 'lifecycle_provisioning_attempts_total',
    help: 'SCIM requests sent downstream, by app and outcome (SUCCEEDED, RETRY_SCHEDULED, FAILED).',
    labelNames: ['app', 'outcome'] as const,
    registers: [registry],
  })
  const latency = new Histogram({
    name: 'lifecycle_provisioning_request_duration_seconds',
    help: 'SCIM request latency by app.',
    labelNames: ['app'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  })
  new Gauge({
    name: 'lifecycle_provisioning_jobs',
    help: 'Provisioning jobs by state.',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const counts = await db.prisma.provisioningJob.groupBy({ by: ['state'], _count: { _all: true } })
      for (const state of ['QUEUED', 'RUNNING', 'HELD', 'SUCCEEDED', 'FAILED']) {
        this.set({ state: state.toLowerCase() }, counts.find((row) => row.state === state)?._count._all ?? 0)
      }
    },
  })
  new Gauge({
    name: 'lifecycle_provisioning_oldest_job_age_seconds',
    help: 'Age of the oldest unfinished (queued or running) provisioning job; 0 when the queue is empty.',
    registers: [registry],
    async collect() {
      const oldest = await db.prisma.provisioningJob.aggregate({
        where: { state: { in: ['QUEUED', 'RUNNING'] } },
        _min: { created: true },
      })
      const created = oldest._min.created
      this.set(created ? Math.max(0, (Date.now() - created.getTime()) / 1000) : 0)
    },
  })
  return {
    /** Counts one request the worker sent for an app. */
    attempt(appId: string, attempt: AttemptRecord) {
      attempts.inc({ app: appId, outcome: attempt.outcome })
      latency.observe({ app: appId }, attempt.durationMs / 1000)
    },
  }
}

export type ProvisioningMetrics = ReturnType<typeof provisioningMetrics>
