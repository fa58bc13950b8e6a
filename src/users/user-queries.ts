import type { User as UserRow } from '../generated/prisma/client'
import type { Prisma as PrismaTypes } from '../generated/prisma/client'
import { ok, type Result } from '../errors'
import { idPage, type ConnectionArgs, type Page } from '../graphql/connection'
import type { Prisma } from '../store/database'
import { escapeLike, parseUserSearch } from './search'
import type { UserStatus } from './status-machine'

export interface UserListFilter {
  status?: UserStatus[] | null
  search?: string | null
  q?: string | null
}

const CURSOR_TAG = 'user'

/** Read side of users: lists with filters and keyset pagination (ids sort by creation). */
export class UserQueries {
  constructor(private readonly prisma: Prisma) {}

  async list(filter: UserListFilter | null | undefined, args: ConnectionArgs): Promise<Result<Page<UserRow>>> {
    const where = this.where(filter ?? {})
    if (!where.ok) return where
    return ok(
      await idPage(
        args,
        CURSOR_TAG,
        (keyset) =>
          this.prisma.user.findMany({
            where: { AND: [where.value, { id: keyset.id }] },
            orderBy: { id: keyset.order },
            take: keyset.take,
          }),
        () => this.prisma.user.count({ where: where.value }),
      ),
    )
  }

  byLogin(login: string): Promise<UserRow | null> {
    return this.prisma.user.findUnique({ where: { login } })
  }

  private where(filter: UserListFilter): Result<PrismaTypes.UserWhereInput> {
    const clauses: PrismaTypes.UserWhereInput[] = []
    if (filter.status?.length) clauses.push({ status: { in: filter.status } })
    if (filter.search) {
      const search = parseUserSearch(filter.search)
      if (!search.ok) return search
      clauses.push(search.value)
    }
    // Like Okta's list: deactivated users appear only when a status filter or search asks for them.
    if (!filter.status?.length && !filter.search) clauses.push({ status: { not: 'DEPROVISIONED' } })
    if (filter.q) {
      const prefix = { startsWith: escapeLike(filter.q), mode: 'insensitive' as const }
      clauses.push({ OR: [{ login: prefix }, { email: prefix }, { firstName: prefix }, { lastName: prefix }] })
    }
    return ok({ AND: clauses })
  }
}
