// The `provision` baseline, in its own process: the POST /Users requests the provisioning worker sends
// (the same mapped bodies, headers and Node fetch), sent straight to the bench SCIM responder by
// `concurrency` loops until `requests` are answered. With `lookup`, each request is preceded by the
// GET /Users?filter=… the worker sends first. Started with fork(); receives the job, sends the result.
import { toScimUser } from '../../dist/src/provisioning/scim-mapping.js'

const SCIM = 'application/scim+json'
const DEPARTMENTS = ['Engineering', 'Sales', 'Marketing', 'Finance', 'Support']

/** The seeded user number i as the engine maps it (bench/lib/harness.mjs seeds these columns). */
function resource(i) {
  return toScimUser({
    id: `usr_baseline${String(i).padStart(16, '0')}`,
    login: `baseline${i}@bench.example`,
    email: `baseline${i}@bench.example`,
    firstName: `First${i}`,
    lastName: `Last${i}`,
    displayName: null,
    title: `Title ${i % 7}`,
    department: DEPARTMENTS[i % 5],
    employeeNumber: String(i).padStart(6, '0'),
    managerId: null,
    active: true,
  })
}

async function send(job, method, path, body) {
  const response = await fetch(`${job.baseUrl}${path}`, {
    method,
    headers: {
      accept: `${SCIM}, application/json`,
      authorization: `Bearer ${job.token}`,
      ...(body !== undefined && { 'content-type': SCIM }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  const parsed = JSON.parse(await response.text())
  const expected = method === 'POST' ? 201 : 200
  if (response.status !== expected || (method === 'POST' && !parsed.id)) throw new Error(`${method} ${response.status}`)
}

async function one(job, i) {
  const user = resource(i)
  if (job.lookup)
    await send(job, 'GET', `/Users?filter=${encodeURIComponent(`userName eq ${JSON.stringify(user.userName)}`)}`)
  await send(job, 'POST', '/Users', user)
}

async function run(job, requests, offset) {
  let next = 0
  let failures = 0
  let sample
  const latencies = []
  const started = performance.now()
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (next < requests) {
        const i = offset + next++
        const sent = performance.now()
        try {
          await one(job, i)
          latencies.push(performance.now() - sent)
        } catch (error) {
          failures++
          sample ??= String(error?.message ?? error)
        }
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]
  return { requests, failures, sample, seconds, rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99) }
}

process.on('message', async (job) => {
  try {
    await run(job, job.warmup, 0)
    process.send(await run(job, job.requests, job.warmup))
  } catch (error) {
    process.send({ error: String(error?.stack ?? error) })
  }
  process.disconnect()
})
