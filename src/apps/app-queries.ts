import type { App, AppStatus, AppUser } from '../generated/prisma/client'
import { idPage, type ConnectionArgs, type Page } from '../graphql/connection'
import type { Prisma } from '../store/database'
import { escapeLike } from '../users/search'

/** Read side of apps and app users. */
export class AppQueries {
  constructor(private readonly prisma: Prisma) {}

  apps(
    filter: { q?: string | null; status?: AppStatus[] | null } | null | undefined,
    args: ConnectionArgs,
  ): Promise<Page<App>> {
    const prefix = filter?.q ? { startsWith: escapeLike(filter.q), mode: 'insensitive' as const } : undefined
    const where = {
      ...(prefix ? { OR: [{ label: prefix }, { name: prefix }] } : {}),
      ...(filter?.status?.length ? { status: { in: filter.status } } : {}),
    }
    return idPage(
      args,
      'app',
      (keyset) =>
        this.prisma.app.findMany({
          where: { ...where, id: keyset.id },
          orderBy: { id: keyset.order },
          take: keyset.take,
        }),
      () => this.prisma.app.count({ where }),
    )
  }

  /** The app users whose deactivation the deprovisioning guard holds; null for an unknown app. */
  async provisioningHolds(appId: string, args: ConnectionArgs): Promise<Page<AppUser> | null> {
    if (!(await this.prisma.app.findUnique({ where: { id: appId }, select: { id: true } }))) return null
    const where = { appId, provisioningJobs: { some: { state: 'HELD' as const } } }
    return idPage(
      args,
      'appUser',
      (keyset) =>
        this.prisma.appUser.findMany({
          where: { ...where, id: keyset.id },
          orderBy: { id: keyset.order },
          take: keyset.take,
        }),
      () => this.prisma.appUser.count({ where }),
    )
  }

  appUser(appId: string, userId: string): Promise<AppUser | null> {
    return this.prisma.appUser.findUnique({ where: { appId_userId: { appId, userId } } })
  }
}
