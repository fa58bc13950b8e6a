import type { User as UserRow } from '../generated/prisma/client'
import type { Prisma as PrismaTypes } from '../generated/prisma/client'
import { ok, type Result } from '../errors'
import { idPage, type ConnectionArgs, type Page, type TotalCount } from '../graphql/connection'
import { DIRECTORY, type Counters } from '../store/counters'
import type { Prisma } from '../store/database'
import { escapeLike, parseUserSearch } from './search'
import { USER_STATUSES, type UserStatus } from './status-machine'

export interface UserListFilter {
  status?: UserStatus[] | null
  search?: string | null
  q?: string | null
}

const CURSOR_TAG = 'user'
const LISTED_BY_DEFAULT = USER_STATUSES.filter((status) => status !== 'DEPROVISIONED')

/**
 * A list filtered by text (`q`, `search`) is counted exactly up to this many matches; beyond, its
 * count is estimated from the matches among this many users of the list it narrows, so neither
 * costs more than a few bounded index scans however large the directory.
 */
export const EXACT_COUNT_LIMIT = 10_000

/** Which users a list holds: by status (counted by the counters), narrowed by text or not. */
interface UserSelection {
  statuses: readonly UserStatus[]
  byStatus: PrismaTypes.UserWhereInput
  byText: PrismaTypes.UserWhereInput | null
}

/** Read side of users: lists with filters and keyset pagination (ids sort by creation). */
export class UserQueries {
  constructor(
    private readonly prisma: Prisma,
    private readonly counters: Counters,
  ) {}

  async list(filter: UserListFilter | null | undefined, args: ConnectionArgs): Promise<Result<Page<UserRow>>> {
    const selection = this.selection(filter ?? {})
    if (!selection.ok) return selection
    const { byStatus, byText } = selection.value
    const where = { AND: [byStatus, ...(byText ? [byText] : [])] }
    return ok(
      await idPage(
        args,
        CURSOR_TAG,
        (keyset) =>
          this.prisma.user.findMany({
            where: { AND: [where, { id: keyset.id }] },
            orderBy: { id: keyset.order },
            take: keyset.take,
          }),
        () => this.count(selection.value),
      ),
    )
  }

  byLogin(login: string): Promise<UserRow | null> {
    return this.prisma.user.findUnique({ where: { login } })
  }

  private async count({ statuses, byStatus, byText }: UserSelection): Promise<TotalCount> {
    const ofStatuses = async () => (await this.counters.sum('user.status', [DIRECTORY], statuses)).get(DIRECTORY)!
    if (!byText) return { count: await ofStatuses(), isEstimate: false }
    const where = { AND: [byStatus, byText] }
    const upToLimit = await this.prisma.user.count({ where, take: EXACT_COUNT_LIMIT + 1 })
    if (upToLimit <= EXACT_COUNT_LIMIT) return { count: upToLimit, isEstimate: false }
    // The share of matches among the first EXACT_COUNT_LIMIT users of the list, applied to all of it.
    const [sampleEnd] = await this.prisma.user.findMany({
      where: byStatus,
      orderBy: { id: 'asc' },
      skip: EXACT_COUNT_LIMIT - 1,
      take: 1,
      select: { id: true },
    })
    const inSample = await this.prisma.user.count({ where: { AND: [where, { id: { lte: sampleEnd.id } }] } })
    const estimate = Math.round((inSample / EXACT_COUNT_LIMIT) * (await ofStatuses()))
    return { count: Math.max(EXACT_COUNT_LIMIT + 1, estimate), isEstimate: true }
  }

  private selection(filter: UserListFilter): Result<UserSelection> {
    const text: PrismaTypes.UserWhereInput[] = []
    if (filter.search) {
      const search = parseUserSearch(filter.search)
      if (!search.ok) return search
      text.push(search.value)
    }
    if (filter.q) {
      const prefix = { startsWith: escapeLike(filter.q), mode: 'insensitive' as const }
      text.push({ OR: [{ login: prefix }, { email: prefix }, { firstName: prefix }, { lastName: prefix }] })
    }
    const byText = text.length ? { AND: text } : null
    if (filter.status?.length) {
      return ok({ statuses: [...new Set(filter.status)], byStatus: { status: { in: filter.status } }, byText })
    }
    if (filter.search) return ok({ statuses: USER_STATUSES, byStatus: {}, byText })
    // Like Okta's list: deactivated users appear only when a status filter or search asks for them.
    return ok({ statuses: LISTED_BY_DEFAULT, byStatus: { status: { not: 'DEPROVISIONED' } }, byText })
  }
}
