// A minimal SCIM 2.0 downstream for `provision` (node:http, no framework), run as its own process so that
// it never shares an event loop with the server or the baseline. One path prefix per app
// (`/<app>/scim/v2`): GET /Users?filter=… answers an empty ListResponse, POST /Users answers 201 with the
// body plus an `id`. Control (bench only): GET /_counts (POSTs and GETs answered per app),
// PUT /_delay/<app>/<ms> (that app's answers wait <ms> first: a slow downstream).
// Started with fork(); sends { port } once listening. argv[2]: the bearer token it accepts.
import http from 'node:http'

const TOKEN = process.argv[2]
const SCIM = 'application/scim+json'
const EMPTY_LIST = JSON.stringify({
  schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
  totalResults: 0,
  Resources: [],
})
const delays = new Map()
const counts = {}
let nextId = 0

const count = (app, method) => {
  counts[app] ??= { GET: 0, POST: 0, other: 0 }
  counts[app][method in counts[app] ? method : 'other']++
}

function answer(response, status, body) {
  response.writeHead(status, { 'content-type': SCIM, 'content-length': Buffer.byteLength(body) })
  response.end(body)
}

const server = http.createServer((request, response) => {
  const chunks = []
  request.on('data', (chunk) => chunks.push(chunk))
  request.on('end', () => {
    const url = new URL(request.url, 'http://responder')
    if (url.pathname === '/_counts') return answer(response, 200, JSON.stringify(counts))
    const control = /^\/_delay\/(\w+)\/(\d+)$/.exec(url.pathname)
    if (control) {
      delays.set(control[1], Number(control[2]))
      return answer(response, 204, '')
    }
    const scim = /^\/(\w+)\/scim\/v2\/Users$/.exec(url.pathname)
    if (!scim) return answer(response, 404, JSON.stringify({ status: '404', detail: 'no such endpoint' }))
    const app = scim[1]
    if (request.headers.authorization !== `Bearer ${TOKEN}`) {
      return answer(response, 401, JSON.stringify({ status: '401', detail: 'bad token' }))
    }
    const reply = () => {
      count(app, request.method)
      if (request.method === 'GET' && url.searchParams.has('filter')) return answer(response, 200, EMPTY_LIST)
      if (request.method === 'POST') {
        const user = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        return answer(response, 201, JSON.stringify({ ...user, id: `${app}-${++nextId}` }))
      }
      answer(response, 405, JSON.stringify({ status: '405', detail: 'not in the bench responder' }))
    }
    const delay = delays.get(app) ?? 0
    if (delay > 0) setTimeout(reply, delay)
    else reply()
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
process.on('disconnect', () => process.exit(0))
