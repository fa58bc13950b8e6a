import { featureOf, type StoredFeatures, type UserProvisioningCapabilities } from '../apps/features'
import { domainError, fail, ok, type DomainError, type Result } from '../errors'
import type { App } from '../generated/prisma/client'
import type { Prisma } from '../store/database'
import { scimConnectionOf } from './connection'
import { ProvisioningPlanner, type Plan, type PlannedAppUser } from './provisioning-plan'
import { ScimClient, type ScimFailure } from './scim-client'
import { downstreamPages } from './scim-pages'
import type { SecretBox } from './secrets'

/** An app user with the profile columns the SCIM mapping reads, as one join returns it. */
type PlanRow = Omit<PlannedAppUser, 'user'> & Omit<PlannedAppUser['user'], 'id'>

/**
 * previewProvisioning: reads the app's app users (one statement) and the downstream (GET only, a
 * page at a time) and plans what a provisioning run would send. Writes nothing, here or downstream.
 */
export class PlanQueries {
  constructor(
    private readonly prisma: Prisma,
    private readonly secrets: Pick<SecretBox, 'open'>,
    private readonly timeoutMs: number,
  ) {}

  async preview(appId: string): Promise<Result<{ appId: string; plan: Plan }>> {
    const app = await this.prisma.app.findFirst({ where: { id: appId } })
    if (!app) return fail(domainError('NOT_FOUND', `No app with id ${appId}.`, ['appId']))
    const refused = refusal(app)
    if (refused) return fail(refused)
    let client: ScimClient
    try {
      client = new ScimClient(scimConnectionOf(app, this.secrets, this.timeoutMs))
    } catch (error) {
      return fail(
        domainError('DOWNSTREAM_FAILED', `The connection of ${app.label} cannot be used: ${(error as Error).message}`),
      )
    }
    const capabilities = featureOf((app.features ?? {}) as StoredFeatures, 'USER_PROVISIONING')
      .capabilities as UserProvisioningCapabilities
    const pages = readAhead(downstreamPages(client))
    // The first page is asked for while the app users are read.
    const [appUsers, first] = await Promise.all([this.appUsersOf(app.id), pages.next()])
    const planner = new ProvisioningPlanner(appUsers, capabilities)
    for (let page = first; !page.done; page = await pages.next()) {
      if (!page.value.ok) return fail(downstreamFailed(app, page.value))
      planner.read(page.value.users)
    }
    return ok({ appId: app.id, plan: planner.plan() })
  }

  private async appUsersOf(appId: string): Promise<PlannedAppUser[]> {
    const rows = await this.prisma.$queryRaw<PlanRow[]>`
      SELECT au.id, au."userId", au.status, au."externalId",
             u.login, u.email, u."firstName", u."lastName", u."displayName",
             u.title, u.department, u."employeeNumber", u."managerId"
      FROM "AppUser" au JOIN "User" u ON u.id = au."userId"
      WHERE au."appId" = ${appId}
      -- byte order, as the actions connection compares its cursors
      ORDER BY au.id COLLATE "C"`
    return rows.map(({ id, userId, status, externalId, ...profile }) => ({
      id,
      userId,
      status,
      externalId,
      user: { id: userId, ...profile },
    }))
  }
}

/**
 * The pages of `source`, the next one asked for as soon as one is handed over: the downstream answers
 * while the planner works (two pages held at most).
 */
async function* readAhead<T>(source: AsyncGenerator<T>): AsyncGenerator<T> {
  let next = source.next()
  for (;;) {
    const current = await next
    if (current.done) return
    next = source.next()
    yield current.value
  }
}

/** Refused like the other feature operations: the connection must be enabled and USER_PROVISIONING on. */
function refusal(app: App): DomainError | undefined {
  if (app.provisioningStatus !== 'ENABLED')
    return domainError(
      'PROVISIONING_NOT_ENABLED',
      `Provisioning is not enabled for the app instance ${app.label} (enable its provisioning connection first).`,
      ['appId'],
    )
  if (featureOf((app.features ?? {}) as StoredFeatures, 'USER_PROVISIONING').status !== 'ENABLED')
    return domainError(
      'FEATURE_NOT_SUPPORTED',
      `USER_PROVISIONING is not enabled for the app instance ${app.label}: there is no provisioning run to preview.`,
      ['appId'],
    )
  return undefined
}

function downstreamFailed(app: App, failure: ScimFailure): DomainError {
  const answer =
    failure.kind === 'timeout'
      ? 'did not answer in time'
      : failure.kind === 'network'
        ? `could not be reached (${failure.detail ?? 'network error'})`
        : failure.status === 401 || failure.status === 403
          ? `refused the credentials used to connect to the API (HTTP ${failure.status})`
          : `answered HTTP ${failure.status}${failure.detail ? `: ${failure.detail}` : ''}`
  return domainError(
    'DOWNSTREAM_FAILED',
    `The downstream of ${app.label} ${answer} while its accounts were read (${failure.request.method} ${failure.request.path}); nothing was planned.`,
    ['appId'],
  )
}
