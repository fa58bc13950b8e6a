// Serves one browser page bundled at install (`npm run build:ui`, scripts/build-ui.mjs) from
// public/<name>/: GraphiQL and the live dashboard. Nothing on these pages loads from a CDN.
//
// - GET <path> and <path>/ answer the page; <path>/* the static assets beside it.
// - If the bundle has not been built, the page and assets answer 503 with a hint.
import fs from 'node:fs'
import path from 'node:path'
import express from 'express'
import type { NextFunction, Request, Response } from 'express'

/**
 * Nearest <dir>/public/<name> walking up from this file (src/server/ under tsx/jest,
 * dist/src/server/ once compiled) among directories holding a package.json; if none
 * exists yet, the one beside the nearest package.json (so the 503 hint names it).
 */
function defaultPublicDir(name: string, from: string = __dirname): string {
  let fallback: string | undefined
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) {
      const candidate = path.join(dir, 'public', name)
      if (fs.existsSync(path.join(candidate, 'index.html'))) return candidate
      fallback ??= candidate
    }
    if (path.dirname(dir) === dir) return fallback ?? path.resolve('public', name)
  }
}

const HOST_RE = /^[A-Za-z0-9.\-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/

/**
 * Headers for a page. The CSP allows only this origin (plus data: fonts/images that the
 * bundles inline, and this host's WebSocket), so the page cannot load or send anything
 * elsewhere: a pasted token stays on this server. Monaco and uPlot need inline styles.
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

export interface BundledPage {
  /** Answers the page itself (for routes other than its own path, e.g. GET /graphql from a browser). */
  sendPage(req: Request, res: Response, next: NextFunction): void
  /** The page at `urlPath` and its assets below it. */
  router: express.Router
}

/** The page bundled into public/<name>/, served at `urlPath` (e.g. '/dashboard'). */
export function bundledPage(name: string, urlPath: string, publicDir?: string): BundledPage {
  const dir = path.resolve(publicDir ?? defaultPublicDir(name))
  const indexFile = path.join(dir, 'index.html')
  const notBuilt = `The ${name} page is not built (${indexFile} is missing): run \`npm run build:ui\`.\n`
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

  // Non-strict routing: this matches <path> and <path>/ (the pages use absolute asset URLs).
  router.get([urlPath, `${urlPath}/index.html`], sendPage)

  router.use(
    urlPath,
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

  // Anything else under the page's path: a missing asset, or no bundle at all.
  router.use(urlPath, (_req, res) => {
    if (!fs.existsSync(indexFile)) sendNotBuilt(res)
    else res.status(404).type('text/plain').send('Not found\n')
  })

  return { sendPage, router }
}
