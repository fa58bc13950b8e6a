// Serves the self-hosted GraphiQL bundle (built by `npm run build:ui` from web/graphiql
// into public/graphiql). Mount it BEFORE the GraphQL middleware:
//
//   app.use(graphiqlRouter())
//   app.use('/graphql', cors(...), express.json(), expressMiddleware(apollo, ...))
//
// - GET /graphiql and /graphiql/ answer the GraphiQL page; /graphiql/* the static assets.
// - GET /graphql answers the page only to clients that prefer text/html (browsers) and
//   send no `query` parameter. Every other /graphql request (POST, GET from GraphQL
//   clients, curl's Accept: */*) falls through with next() to the GraphQL handler.
// - If the bundle has not been built, the page and assets answer 503 with a hint.
import fs from 'node:fs'
import path from 'node:path'
import express from 'express'
import type { NextFunction, Request, Response } from 'express'

const GRAPHQL_PATH = '/graphql'
const UI_PATH = '/graphiql'

/**
 * Nearest <dir>/public/graphiql walking up from this file (src/server/ under tsx/jest,
 * dist/src/server/ once compiled) among directories holding a package.json; if none
 * exists yet, the one beside the nearest package.json (so the 503 hint names it).
 */
function defaultPublicDir(from: string = __dirname): string {
  let fallback: string | undefined
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) {
      const candidate = path.join(dir, 'public', 'graphiql')
      if (fs.existsSync(path.join(candidate, 'index.html'))) return candidate
      fallback ??= candidate
    }
    if (path.dirname(dir) === dir) return fallback ?? path.resolve('public', 'graphiql')
  }
}

/** True when the client prefers an HTML page over a GraphQL response (a browser's address bar). */
function wantsGraphiql(req: Request): boolean {
  if (req.query['query'] !== undefined) return false // GraphQL-over-HTTP GET: leave it to the server
  return req.accepts(['application/graphql-response+json', 'application/json', 'text/html']) === 'text/html'
}

const HOST_RE = /^[A-Za-z0-9.\-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/

/**
 * Headers for the page. The CSP allows only this origin (plus data: fonts/images that the
 * bundle inlines), so the page cannot load or send anything elsewhere: a pasted token
 * stays on this server. Monaco needs inline styles.
 */
function pageHeaders(req: Request): Record<string, string> {
  const host = req.get('host')
  const ws = host && HOST_RE.test(host) ? ` ${req.protocol === 'https' ? 'wss' : 'ws'}://${host}` : ''
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${ws}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  }
}

export function graphiqlRouter(publicDir?: string): express.Router {
  const dir = path.resolve(publicDir ?? defaultPublicDir())
  const indexFile = path.join(dir, 'index.html')
  const notBuilt = `GraphiQL UI is not built (${indexFile} is missing): run \`npm run build:ui\`.\n`
  const router = express.Router()

  const sendNotBuilt = (res: Response): void => {
    res.status(503).set('Cache-Control', 'no-store').type('text/plain').send(notBuilt)
  }

  const sendPage = (req: Request, res: Response, next: NextFunction): void => {
    fs.readFile(indexFile, (err, html) => {
      if (err) {
        if (err.code === 'ENOENT') sendNotBuilt(res)
        else next(err)
        return
      }
      res.status(200).set(pageHeaders(req)).type('html').send(html)
    })
  }

  router.get(GRAPHQL_PATH, (req, res, next) => {
    res.vary('Accept') // the same URL answers HTML or GraphQL depending on Accept
    if (wantsGraphiql(req)) sendPage(req, res, next)
    else next()
  })

  // Non-strict routing: this matches /graphiql and /graphiql/ (the page uses absolute asset URLs).
  router.get([UI_PATH, `${UI_PATH}/index.html`], sendPage)

  router.use(
    UI_PATH,
    express.static(dir, {
      index: false,
      redirect: false,
      fallthrough: true,
      dotfiles: 'ignore',
      setHeaders(res) {
        res.setHeader('X-Content-Type-Options', 'nosniff')
        res.setHeader('Cache-Control', 'no-cache') // names are not content-hashed: revalidate (ETag)
      },
    }),
  )

  // Anything else under /graphiql: a missing asset, or no bundle at all.
  router.use(UI_PATH, (_req, res) => {
    if (!fs.existsSync(indexFile)) sendNotBuilt(res)
    else res.status(404).type('text/plain').send('Not found\n')
  })

  return router
}
