import DataLoader from 'dataloader'
import { Prisma as Sql, type App, type AppGroupAssignment, type AppUser, type Group, type User as UserRow } from '../generated/prisma/client'
import type { Prisma } from '../store/database'
import { pagedRelationLoader, type Tagged } from './paged-loader'

/** How an app user holds its app: directly, or through a group. */
export interface Grant {
  scope: 'USER' | 'GROUP'
  groupId: string | null
}

/** Per-request batch loaders: every relation a list can ask for goes through one of these. */
export type Loaders = ReturnType<typeof createLoaders>

function byId<T extends { id: string }>(find: (ids: string[]) => Promise<T[]>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = new Map((await find([...ids])).map((row) => [row.id, row]))
    return ids.map((id) => rows.get(id) ?? null)
  })
}

async function countBy(prisma: Prisma, table: string, column: string, parentIds: string[]) {
  const rows = await prisma.$queryRaw<{ parent: string; count: bigint }[]>(
    Sql.sql`SELECT ${Sql.raw(`"${column}"`)} AS parent, count(*) AS count FROM ${Sql.raw(`"${table}"`)}
            WHERE ${Sql.raw(`"${column}"`)} IN (${Sql.join(parentIds)}) GROUP BY 1`,
  )
  return new Map(rows.map((row) => [row.parent, Number(row.count)]))
}

/**
 * Up to `limit` rows per parent in one statement: the relation query numbered per parent
 * (row_number over the parent, ordered by the child key) and cut at the limit.
 */
function windowed<T>(prisma: Prisma, select: Sql.Sql, limit: number): Promise<Tagged<T>[]> {
  return prisma.$queryRaw<Tagged<T>[]>(
    Sql.sql`SELECT * FROM (SELECT q.*, row_number() OVER (PARTITION BY q."parentId" ORDER BY q."pageKey") AS "pageRow" FROM (${select}) q) ranked
            WHERE "pageRow" <= ${limit} ORDER BY "parentId", "pageKey"`,
  )
}

const afterClause = (column: string, after: string | undefined) => (after ? Sql.sql`AND ${Sql.raw(column)} > ${after}` : Sql.empty)

export function createLoaders(prisma: Prisma) {
  return {
    userById: byId<UserRow>((ids) => prisma.user.findMany({ where: { id: { in: ids } } })),
    groupById: byId<Group>((ids) => prisma.group.findMany({ where: { id: { in: ids } } })),
    appById: byId<App>((ids) => prisma.app.findMany({ where: { id: { in: ids } } })),

    groupsOfUser: pagedRelationLoader<Group>({
      cursorTag: 'group',
      keyOf: (group) => group.id,
      count: (userIds) => countBy(prisma, 'GroupMembership', 'userId', userIds),
      fetch: (userIds, after, limit) =>
        windowed(prisma, Sql.sql`SELECT g.*, m."userId" AS "parentId", g.id AS "pageKey" FROM "GroupMembership" m JOIN "Group" g ON g.id = m."groupId"
          WHERE m."userId" IN (${Sql.join(userIds)}) ${afterClause('g.id', after)}`, limit),
    }),

    membersOfGroup: pagedRelationLoader<UserRow>({
      cursorTag: 'user',
      keyOf: (user) => user.id,
      count: (groupIds) => countBy(prisma, 'GroupMembership', 'groupId', groupIds),
      fetch: (groupIds, after, limit) =>
        windowed(prisma, Sql.sql`SELECT u.*, m."groupId" AS "parentId", u.id AS "pageKey" FROM "GroupMembership" m JOIN "User" u ON u.id = m."userId"
          WHERE m."groupId" IN (${Sql.join(groupIds)}) ${afterClause('u.id', after)}`, limit),
    }),

    appUsersOfUser: pagedRelationLoader<AppUser>({
      cursorTag: 'appUser',
      keyOf: (appUser) => appUser.id,
      count: (userIds) => countBy(prisma, 'AppUser', 'userId', userIds),
      fetch: (userIds, after, limit) =>
        windowed(prisma, Sql.sql`SELECT a.*, a."userId" AS "parentId", a.id AS "pageKey" FROM "AppUser" a
          WHERE a."userId" IN (${Sql.join(userIds)}) ${afterClause('a.id', after)}`, limit),
    }),

    appUsersOfApp: pagedRelationLoader<AppUser>({
      cursorTag: 'appUser',
      keyOf: (appUser) => appUser.id,
      count: (appIds) => countBy(prisma, 'AppUser', 'appId', appIds),
      fetch: (appIds, after, limit) =>
        windowed(prisma, Sql.sql`SELECT a.*, a."appId" AS "parentId", a.id AS "pageKey" FROM "AppUser" a
          WHERE a."appId" IN (${Sql.join(appIds)}) ${afterClause('a.id', after)}`, limit),
    }),

    groupAssignmentsOfApp: pagedRelationLoader<AppGroupAssignment>({
      cursorTag: 'appGroup',
      keyOf: (assignment) => assignment.groupId,
      count: (appIds) => countBy(prisma, 'AppGroupAssignment', 'appId', appIds),
      fetch: (appIds, after, limit) =>
        windowed(prisma, Sql.sql`SELECT a.*, a."appId" AS "parentId", a."groupId" AS "pageKey" FROM "AppGroupAssignment" a
          WHERE a."appId" IN (${Sql.join(appIds)}) ${afterClause('a."groupId"', after)}`, limit),
    }),

    appAssignmentsOfGroup: pagedRelationLoader<AppGroupAssignment>({
      cursorTag: 'groupApp',
      keyOf: (assignment) => assignment.appId,
      count: (groupIds) => countBy(prisma, 'AppGroupAssignment', 'groupId', groupIds),
      fetch: (groupIds, after, limit) =>
        windowed(prisma, Sql.sql`SELECT a.*, a."groupId" AS "parentId", a."appId" AS "pageKey" FROM "AppGroupAssignment" a
          WHERE a."groupId" IN (${Sql.join(groupIds)}) ${afterClause('a."appId"', after)}`, limit),
    }),

    /** Every grant behind an app user (key: `appId userId`), direct first, then groups by priority. */
    grantsOf: new DataLoader<string, Grant[]>(async (keys) => {
      const pairs = keys.map((key) => key.split(' ') as [string, string])
      const rows = await prisma.$queryRaw<{ appId: string; userId: string; groupId: string | null; priority: number }[]>(Sql.sql`
        WITH wanted("appId", "userId") AS (VALUES ${Sql.join(pairs.map(([appId, userId]) => Sql.sql`(${appId}, ${userId})`))})
        SELECT d."appId", d."userId", NULL AS "groupId", -1 AS priority FROM "AppDirectAssignment" d JOIN wanted w USING ("appId", "userId")
        UNION ALL
        SELECT a."appId", m."userId", a."groupId", a.priority FROM "AppGroupAssignment" a
          JOIN "GroupMembership" m ON m."groupId" = a."groupId" JOIN wanted w ON w."appId" = a."appId" AND w."userId" = m."userId"
        ORDER BY priority`)
      return pairs.map(([appId, userId]) =>
        rows
          .filter((row) => row.appId === appId && row.userId === userId)
          .map((row) => ({ scope: row.groupId ? ('GROUP' as const) : ('USER' as const), groupId: row.groupId })),
      )
    }),
  }
}
