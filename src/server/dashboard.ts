// Serves the live lifecycle dashboard (web/dashboard, bundled into public/dashboard by
// `npm run build:ui`) at GET /dashboard. The page talks to this server only through the
// public GraphQL operations: POST /graphql and graphql-ws subscriptions on /graphql.
import type express from 'express'
import { bundledPage } from './bundled-page'

export const dashboardRouter = (publicDir?: string): express.Router =>
  bundledPage('dashboard', '/dashboard', publicDir).router
