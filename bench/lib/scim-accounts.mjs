// A minimal read-only SCIM 2.0 downstream for `plan` (node:http, no framework), run as its own process so
// that it never shares an event loop with the server or the baseline. It holds `count` accounts, one per
// seeded bench user i (bench/lib/harness.mjs: login user<i>@bench.example, id usr_<time><i>), shaped as the
// SCIM mapping pushes them, every `driftEvery`-th one with its title changed by hand. GET
// /Users?startIndex=&count= pages them (RFC 7644 3.4.2.4); anything else is refused. Control (bench only):
// GET /_counts (requests answered by method).
// Started with fork(); sends { port } once listening. argv: token, count, seed time, driftEvery.
import http from 'node:http'

const [TOKEN, COUNT, TIME, DRIFT_EVERY] = process.argv.slice(2)
const count = Number(COUNT)
const driftEvery = Number(DRIFT_EVERY)
const SCIM = 'application/scim+json'
const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const DEPARTMENTS = ['Engineering', 'Sales', 'Marketing', 'Finance', 'Support']
const answered = {}

/** Account i, built on demand: the responder keeps no bodies either. */
function account(i) {
  const login = `user${i}@bench.example`
  return {
    schemas: [CORE, ENTERPRISE],
    id: `acc-${i}`,
    userName: login,
    name: { givenName: `First${i}`, familyName: `Last${i}` },
    emails: [{ value: login, type: 'work', primary: true }],
    title: i % driftEvery === 0 ? 'Changed by hand' : `Title ${i % 7}`,
    active: true,
    externalId: `usr_${TIME}${String(i).padStart(16, '0')}`,
    [ENTERPRISE]: { department: DEPARTMENTS[i % 5], employeeNumber: String(i).padStart(6, '0') },
    meta: { resourceType: 'User', location: `/Users/acc-${i}` },
  }
}

function answer(response, status, body) {
  response.writeHead(status, { 'content-type': SCIM, 'content-length': Buffer.byteLength(body) })
  response.end(body)
}

const server = http.createServer((request, response) => {
  request.resume()
  request.on('end', () => {
    const url = new URL(request.url, 'http://responder')
    if (url.pathname === '/_counts') return answer(response, 200, JSON.stringify(answered))
    answered[request.method] = (answered[request.method] ?? 0) + 1
    if (request.headers.authorization !== `Bearer ${TOKEN}`) {
      return answer(response, 401, JSON.stringify({ status: '401', detail: 'bad token' }))
    }
    if (request.method !== 'GET' || !/\/scim\/v2\/Users$/.test(url.pathname)) {
      return answer(response, 405, JSON.stringify({ status: '405', detail: 'read-only bench responder' }))
    }
    const startIndex = Math.max(1, Number(url.searchParams.get('startIndex') ?? 1))
    const size = Math.max(0, Math.min(1000, Number(url.searchParams.get('count') ?? 100)))
    const resources = []
    for (let i = startIndex - 1; i < Math.min(count, startIndex - 1 + size); i++) resources.push(account(i))
    answer(
      response,
      200,
      JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        totalResults: count,
        startIndex,
        itemsPerPage: resources.length,
        Resources: resources,
      }),
    )
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
process.on('disconnect', () => process.exit(0))
