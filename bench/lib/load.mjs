// The load generator, run as its own process by harness.runLoad (so it shares no event loop with
// the server child or with the baseline handler in the bench process). It receives one job over
// IPC, runs autocannon, and sends back a summary.
//
// Job: { profile: 'post' | 'write-cycle', url, secret, connections, duration?, amount?, body?, expect?, loginPrefix? }
import autocannon from 'autocannon'

const LIFECYCLE = {
  activateUser:
    'mutation($id: ID!) { activateUser(input: { id: $id }) { user { id status } userErrors { code message } } }',
  deactivateUser:
    'mutation($id: ID!) { deactivateUser(input: { id: $id }) { user { id status } userErrors { code message } } }',
  deleteUser:
    'mutation($id: ID!) { deleteUser(input: { id: $id }) { deletedUserId user { id status } userErrors { code message } } }',
}
const CREATE_USER =
  'mutation($input: CreateUserInput!) { createUser(input: $input) { user { id status } userErrors { code message field } } }'

function postProfile(job, counters) {
  // A cheap check of every response, done here so the server's side is not slowed down by it.
  const expect = job.expect ?? null
  return {
    method: 'POST',
    body: job.body,
    verifyBody: (body) => {
      const good = !body.includes('"errors":') && (!expect || body.includes(expect))
      if (!good && counters.samples.length < 3) counters.samples.push(body.slice(0, 300))
      return good
    },
  }
}

/**
 * createUser(activate: false) -> activateUser -> deactivateUser -> deleteUser on every connection,
 * each step checked (status STAGED, PROVISIONED, DEPROVISIONED, then deletedUserId). A failed
 * step restarts the connection's cycle with a new user.
 */
function writeCycleProfile(job, counters) {
  let sequence = 0
  const fail = (context, step, body) => {
    counters.failures[step] = (counters.failures[step] ?? 0) + 1
    if (counters.samples.length < 3) counters.samples.push(`${step}: ${String(body).slice(0, 300)}`)
    context.id = undefined
  }
  const parse = (body) => {
    try {
      return JSON.parse(body)
    } catch {
      return null
    }
  }
  const step = (name, expectStatus) => ({
    method: 'POST',
    setupRequest: (request, context) =>
      context.id
        ? { ...request, body: JSON.stringify({ query: LIFECYCLE[name], variables: { id: context.id } }) }
        : null,
    onResponse: (status, body, context) => {
      const payload = parse(body)?.data?.[name]
      const ok =
        status === 200 &&
        payload?.userErrors?.length === 0 &&
        (name === 'deleteUser' ? payload.deletedUserId === context.id : payload.user?.status === expectStatus)
      if (!ok) return fail(context, name, body)
      if (name === 'deleteUser') {
        counters.cycles++
        context.id = undefined
      }
    },
  })
  const prefix = job.loginPrefix ?? 'cycle'
  return {
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const n = sequence++
          const login = `${prefix}-${process.pid}-${n}@bench.example`
          const input = {
            activate: false,
            profile: { login, email: login, firstName: 'Cycle', lastName: `N${n}`, department: 'Bench' },
          }
          return { ...request, body: JSON.stringify({ query: CREATE_USER, variables: { input } }) }
        },
        onResponse: (status, body, context) => {
          const user = status === 200 ? parse(body)?.data?.createUser?.user : null
          if (user?.status !== 'STAGED') return fail(context, 'createUser', body)
          context.id = user.id
        },
      },
      step('activateUser', 'PROVISIONED'),
      step('deactivateUser', 'DEPROVISIONED'),
      step('deleteUser'),
    ],
  }
}

async function run(job) {
  const counters = { cycles: 0, failures: {}, samples: [] }
  const profile = job.profile === 'write-cycle' ? writeCycleProfile(job, counters) : postProfile(job, counters)
  const result = await autocannon({
    url: job.url,
    connections: job.connections,
    ...(job.amount ? { amount: job.amount } : { duration: job.duration }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${job.secret}` },
    timeout: job.timeout ?? 30,
    ...profile,
  })
  return {
    requests: result.requests.total,
    duration: result.duration,
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    mismatches: result.mismatches,
    resets: result.resets,
    cycles: counters.cycles,
    cyclesPerSecond: counters.cycles / result.duration,
    failures: counters.failures,
    samples: counters.samples,
  }
}

process.once('message', async (job) => {
  try {
    process.send(await run(job), () => process.exit(0))
  } catch (error) {
    process.send({ error: error?.stack ?? String(error) }, () => process.exit(1))
  }
})
