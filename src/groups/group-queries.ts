import type { Group, GroupRule, GroupType } from '../generated/prisma/client'
import { idPage, type ConnectionArgs, type Page } from '../graphql/connection'
import type { Prisma } from '../store/database'
import { escapeLike } from '../users/search'

/** Read side of groups and group rules: id-ordered pages (ids sort by creation). */
export class GroupQueries {
  constructor(private readonly prisma: Prisma) {}

  groups(
    filter: { q?: string | null; type?: GroupType[] | null } | null | undefined,
    args: ConnectionArgs,
  ): Promise<Page<Group>> {
    const where = {
      ...(filter?.q ? { name: { startsWith: escapeLike(filter.q), mode: 'insensitive' as const } } : {}),
      ...(filter?.type?.length ? { type: { in: filter.type } } : {}),
    }
    return idPage(
      args,
      'group',
      (keyset) =>
        this.prisma.group.findMany({
          where: { ...where, id: keyset.id },
          orderBy: { id: keyset.order },
          take: keyset.take,
        }),
      () => this.prisma.group.count({ where }),
    )
  }

  rule(id: string): Promise<GroupRule | null> {
    return this.prisma.groupRule.findUnique({ where: { id } })
  }

  rules(args: ConnectionArgs): Promise<Page<GroupRule>> {
    return idPage(
      args,
      'groupRule',
      (keyset) =>
        this.prisma.groupRule.findMany({ where: { id: keyset.id }, orderBy: { id: keyset.order }, take: keyset.take }),
      () => this.prisma.groupRule.count(),
    )
  }
}
