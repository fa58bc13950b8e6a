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
import express from 'express'
import type { Request } from 'express'
import { bundledPage } from './bundled-page'

const GRAPHQL_PATH = '/graphql'

/** True when the client prefers an HTML page over a GraphQL response (a browser's address bar). */
function wantsGraphiql(req: Request): boolean {
  if (req.query['query'] !== undefined) return false // GraphQL-over-HTTP GET: leave it to the server
  return req.accepts(['application/graphql-response+json', 'application/json', 'text/html']) === 'text/html'
}

export function graphiqlRouter(publicDir?: string): express.Router {
  const page = bundledPage('graphiql', '/graphiql', publicDir)
  const router = express.Router()
  router.get(GRAPHQL_PATH, (req, res, next) => {
    res.vary('Accept') // the same URL answers HTML or GraphQL depending on Accept
    if (wantsGraphiql(req)) page.sendPage(req, res, next)
    else next()
  })
  router.use(page.router)
  return router
}
