import { jobRows } from '../../src/provisioning/job-rows'
import { openDatabase, type Database } from '../../src/store/database'
import { freshDatabase, type TestDatabase } from '../support/backend'

// Claiming provisioning jobs: per-app-user order, due times, leases and their takeover.
let database: TestDatabase
let db: Database
beforeAll(async () => {
  database = await freshDatabase()
  db = database.db
  await db.prisma.app.createMany({
    data: ['app_claim', 'app_other'].map((id) => ({ id, name: 'scim', label: id, signOnMode: 'SAML_2_0' as const })),
  })
})
afterAll(() => database.drop())
beforeEach(() => db.prisma.provisioningJob.deleteMany())

const T = new Date('2030-01-01T00:00:00.000Z')
const at = (seconds: number) => new Date(T.getTime() + seconds * 1000)
const LEASE = 30
type JobType = 'CREATE' | 'UPDATE' | 'DEACTIVATE' | 'REACTIVATE'

let seeded = 0
const appOf = new Map<string, string>()
/** A user assigned to the app: its app user id. */
async function appUser(appId = 'app_claim'): Promise<string> {
  const n = ++seeded
  await db.prisma.user.create({
    data: { id: `usr_claim_${n}`, status: 'ACTIVE', login: `claim${n}@example.com`, email: `claim${n}@example.com` },
  })
  await db.prisma.appUser.create({
    data: {
      id: `apu_claim_${n}`,
      appId,
      userId: `usr_claim_${n}`,
      scope: 'USER',
      status: 'STAGED',
      syncState: 'OUT_OF_SYNC',
    },
  })
  appOf.set(`apu_claim_${n}`, appId)
  return `apu_claim_${n}`
}

/** Queues jobs in order; returns their ids. */
async function queue(appUserId: string, types: JobType[], runAfter = T): Promise<bigint[]> {
  const ids: bigint[] = []
  for (const type of types) {
    const job = await db.prisma.provisioningJob.create({
      data: {
        appUserId,
        appId: appOf.get(appUserId)!,
        userId: appUserId.replace('apu', 'usr'),
        type,
        runAfter,
        created: T,
      },
    })
    ids.push(job.id)
  }
  return ids
}

const claim = (workerId: string, now: Date, limit = 10) =>
  db.transaction((sql) => jobRows.claim(sql, { workerId, limit, leaseSeconds: LEASE, now }))
const complete = (id: bigint, workerId: string) => db.transaction((sql) => jobRows.complete(sql, id, workerId))

test('a deactivate queued after a create of the same app user is claimable only once the create has completed', async () => {
  const [create, deactivate] = await queue(await appUser(), ['CREATE', 'DEACTIVATE'])

  const first = await claim('worker-a', at(1))
  expect(first.map((job) => [job.id, job.type, job.state, job.leasedBy])).toEqual([
    [create, 'CREATE', 'RUNNING', 'worker-a'],
  ])
  expect(first[0].leaseExpiresAt).toEqual(at(1 + LEASE))
  expect(await claim('worker-b', at(2))).toEqual([])

  expect(await complete(create, 'worker-a')).toBe(true)
  expect((await claim('worker-b', at(3))).map((job) => [job.id, job.type])).toEqual([[deactivate, 'DEACTIVATE']])
})

test('the oldest job of each app user is claimed, several app users at once, up to the limit', async () => {
  const [oneFirst] = await queue(await appUser(), ['CREATE', 'UPDATE'])
  const [twoFirst] = await queue(await appUser(), ['CREATE', 'DEACTIVATE'])
  const [threeFirst] = await queue(await appUser(), ['UPDATE'])

  const claimed = await claim('worker-a', at(1), 2)
  expect(claimed.map((job) => job.id).sort()).toEqual([oneFirst, twoFirst])
  expect((await claim('worker-a', at(1))).map((job) => job.id)).toEqual([threeFirst])
})

test('a claim hands its jobs back oldest first (by due time, then queue order), so a worker starts them in that order', async () => {
  const ids: bigint[] = []
  for (let n = 0; n < 12; n++) ids.push(...(await queue(await appUser(), ['CREATE'])))
  // Retries move rows: each rescheduled job is written anew, so the table's own order is the reverse of the due order.
  for (const [place, id] of [...ids.entries()].reverse())
    await db.prisma.provisioningJob.update({ where: { id }, data: { runAfter: at(-100 + place) } })

  const claimed = await claim('worker-a', at(1), 12)
  expect(claimed.map((job) => job.id)).toEqual(ids)
})

test("one app's deep backlog does not keep another app's jobs out of a claim", async () => {
  for (let n = 0; n < 40; n++) await queue(await appUser('app_claim'), ['CREATE'])
  const [other] = await queue(await appUser('app_other'), ['CREATE'])

  const claimed = await db.transaction((sql) =>
    jobRows.claim(sql, { workerId: 'worker-a', limit: 8, leaseSeconds: LEASE, now: at(1), perApp: 4 }),
  )
  expect(claimed.filter((job) => job.appId === 'app_claim')).toHaveLength(4)
  expect(claimed.filter((job) => job.appId === 'app_other').map((job) => job.id)).toEqual([other])
})

test('a job due in the future is not claimed until its time, and holds back the jobs after it', async () => {
  const appUserId = await appUser()
  const [later] = await queue(appUserId, ['CREATE'], at(60))
  await queue(appUserId, ['UPDATE'])

  expect(await claim('worker-a', at(59))).toEqual([])
  expect((await claim('worker-a', at(60))).map((job) => job.id)).toEqual([later])
})

test('an expired lease is taken over by another worker, and the first worker can no longer complete the job', async () => {
  const [job] = await queue(await appUser(), ['CREATE'])
  await claim('worker-a', at(0))

  expect(await claim('worker-b', at(LEASE - 1))).toEqual([])
  const takenOver = await claim('worker-b', at(LEASE))
  expect(takenOver.map((row) => [row.id, row.leasedBy])).toEqual([[job, 'worker-b']])

  expect(await complete(job, 'worker-a')).toBe(false)
  expect(await db.transaction((sql) => jobRows.fail(sql, job, 'worker-a'))).toBe(false)
  expect(await db.transaction((sql) => jobRows.reschedule(sql, job, 'worker-a', at(100)))).toBe(false)
  expect(await db.transaction((sql) => jobRows.heartbeat(sql, [job], 'worker-a', LEASE, at(LEASE)))).toEqual([])
  expect(await db.prisma.provisioningJob.findFirst({ where: { id: job } })).toMatchObject({
    state: 'RUNNING',
    leasedBy: 'worker-b',
  })
  expect(await complete(job, 'worker-b')).toBe(true)
  expect(await db.prisma.provisioningJob.findFirst({ where: { id: job } })).toMatchObject({
    state: 'SUCCEEDED',
    leasedBy: null,
    leaseExpiresAt: null,
  })
})

test('a heartbeat keeps the lease, so no other worker takes the job over', async () => {
  const [job] = await queue(await appUser(), ['CREATE'])
  await claim('worker-a', at(0))

  const extended = await db.transaction((sql) => jobRows.heartbeat(sql, [job], 'worker-a', LEASE, at(LEASE - 5)))
  expect(extended).toEqual([job])
  expect(await claim('worker-b', at(LEASE + 1))).toEqual([])
  expect((await claim('worker-b', at(2 * LEASE - 5))).map((row) => row.leasedBy)).toEqual(['worker-b'])
})

test('a rescheduled job counts the attempt, waits until its new time and still holds back the jobs after it', async () => {
  const appUserId = await appUser()
  const [create] = await queue(appUserId, ['CREATE', 'DEACTIVATE'])
  await claim('worker-a', at(0), 1)

  expect(await db.transaction((sql) => jobRows.reschedule(sql, create, 'worker-a', at(10)))).toBe(true)
  expect(await db.prisma.provisioningJob.findFirst({ where: { id: create } })).toMatchObject({
    state: 'QUEUED',
    attempts: 1,
    runAfter: at(10),
    leasedBy: null,
  })
  expect(await claim('worker-b', at(9))).toEqual([])
  expect((await claim('worker-b', at(10))).map((job) => [job.id, job.attempts])).toEqual([[create, 1]])
})

test('a failed job is finished: the next job of its app user becomes claimable', async () => {
  const [create, update] = await queue(await appUser(), ['CREATE', 'UPDATE'])
  await claim('worker-a', at(0))

  expect(await db.transaction((sql) => jobRows.fail(sql, create, 'worker-a'))).toBe(true)
  expect((await db.prisma.provisioningJob.findFirst({ where: { id: create } }))?.state).toBe('FAILED')
  expect((await claim('worker-a', at(1))).map((job) => job.id)).toEqual([update])
})

test('concurrent claimers take every job exactly once, in order, and never two jobs of one app user at a time', async () => {
  const RACERS = 6
  const APP_USERS = 50
  const TYPES: JobType[] = ['CREATE', 'UPDATE', 'DEACTIVATE', 'REACTIVATE']
  const order = new Map<string, bigint[]>()
  for (let n = 0; n < APP_USERS; n++) {
    const appUserId = await appUser()
    order.set(appUserId, await queue(appUserId, TYPES))
  }
  const total = APP_USERS * TYPES.length
  // One connection per racer on PostgreSQL; the embedded database has one connection and runs them in turn.
  const racing = database.url ? await openDatabase({ kind: 'postgres', url: database.url, poolSize: RACERS }) : db
  const claimedBy = new Map<bigint, string>()
  const running = new Map<string, bigint>() // app user -> job in flight
  const done = new Map<string, bigint[]>()
  const violations: string[] = []

  const racer = async (workerId: string) => {
    // Bounded, so that a job left unclaimable fails the test instead of spinning until the timeout.
    for (let round = 0; claimedBy.size < total && round < 20 * total; round++) {
      const jobs = await racing.transaction((sql) =>
        jobRows.claim(sql, { workerId, limit: 4, leaseSeconds: LEASE, now: at(1) }),
      )
      for (const job of jobs) {
        if (claimedBy.has(job.id)) violations.push(`job ${job.id} claimed by ${claimedBy.get(job.id)} and ${workerId}`)
        if (running.has(job.appUserId))
          violations.push(`${job.appUserId} ran ${running.get(job.appUserId)} and ${job.id}`)
        claimedBy.set(job.id, workerId)
        running.set(job.appUserId, job.id)
      }
      for (const job of jobs) {
        // Released before the commit that lets the app user's next job be claimed.
        running.delete(job.appUserId)
        done.set(job.appUserId, [...(done.get(job.appUserId) ?? []), job.id])
        expect(await racing.transaction((sql) => jobRows.complete(sql, job.id, workerId))).toBe(true)
      }
      if (jobs.length === 0) await new Promise((resolve) => setImmediate(resolve))
    }
  }
  try {
    await Promise.all(Array.from({ length: RACERS }, (_, n) => racer(`racer-${n}`)))
  } finally {
    if (racing !== db) await racing.close()
  }

  expect(violations).toEqual([])
  expect(claimedBy.size).toBe(total)
  expect(done).toEqual(order)
  expect(await db.prisma.provisioningJob.count({ where: { state: 'SUCCEEDED' } })).toBe(total)
})
