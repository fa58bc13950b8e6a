import DataLoader from 'dataloader'
import {
  Prisma as Sql,
  type App,
  type AppGroupAssignment,
  type AppUser,
  type Group,
  type ProvisioningAttempt,
  type User as UserRow,
} from '../generated/prisma/client'
import type { AppUserFilter } from '../apps/app-inputs'
import { grantRows, type Grant } from '../apps/grant-rows'
import type { Counters } from '../store/counters'
import type { Prisma } from '../store/database'
import { pagedRelationLoader, type ChildKeyset, type PagedRelation, type Tagged } from './paged-loader'

/** Per-request batch loaders: every relation a list can ask for goes through one of these. */
export type Loaders = ReturnType<typeof createLoaders>

function byId<T extends { id: string }>(find: (ids: string[]) => Promise<T[]>) {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = new Map((await find([...ids])).map((row) => [row.id, row]))
    return ids.map((id) => rows.get(id) ?? null)
  })
}

async function countBy(prisma: Prisma, table: string, column: string, parentIds: string[], where = Sql.empty) {
  const rows = await prisma.$queryRaw<{ parent: string; count: bigint }[]>(
    Sql.sql`SELECT ${Sql.raw(`"${column}"`)} AS parent, count(*) AS count FROM ${Sql.raw(`"${table}"`)}
            WHERE ${Sql.raw(`"${column}"`)} IN (${Sql.join(parentIds)}) ${where} GROUP BY 1`,
  )
  return new Map(rows.map((row) => [row.parent, Number(row.count)]))
}

/**
 * Up to `limit` rows per parent in one statement: the relation query numbered per parent
 * (row_number over the parent, ordered by the child key in the page's direction) and cut at the limit.
 */
function windowed<T>(prisma: Prisma, select: Sql.Sql, keyset: ChildKeyset, limit: number): Promise<Tagged<T>[]> {
  const order = Sql.raw(keyset.backward ? 'DESC' : 'ASC')
  return prisma.$queryRaw<Tagged<T>[]>(
    Sql.sql`SELECT * FROM (SELECT q.*, row_number() OVER (PARTITION BY q."parentId" ORDER BY q."pageKey" ${order}) AS "pageRow" FROM (${select}) q) ranked
            WHERE "pageRow" <= ${limit} ORDER BY "parentId", "pageKey" ${order}`,
  )
}

/** The cursor bounds of a page on the child key column (cursors are text: `keyType` casts them to the column's type). */
const keysetClause = (column: string, { after, before }: ChildKeyset, keyType = 'text') => {
  const bound = (operator: string, cursor: string | undefined) =>
    cursor ? Sql.sql`AND ${Sql.raw(column)} ${Sql.raw(operator)} ${cursor}::${Sql.raw(keyType)}` : Sql.empty
  return Sql.sql`${bound('>', after)} ${bound('<', before)}`
}

/** A newest-first list read as an ascending one: its pages forward are pages backward of the ascending order. */
const mirrored = ({ after, before, backward }: ChildKeyset): ChildKeyset => ({
  after: before,
  before: after,
  backward: !backward,
})

/** Pages of one table's rows by a parent column, keyed (and ordered, ascending unless `newestFirst`) by another column. */
function rowsByColumn<T extends Record<string, unknown>>(
  prisma: Prisma,
  relation: {
    table: string
    parent: string
    key: keyof T & string
    cursorTag: string
    keyType?: 'text' | 'bigint'
    newestFirst?: boolean
    /** More conditions on the rows (`AND ...`, unqualified columns of the table). */
    where?: Sql.Sql
    /** Children per parent when a counter keeps them; counted from the table otherwise. */
    count?: PagedRelation<T>['count']
  },
) {
  const { table, parent, key, cursorTag, keyType, newestFirst, where = Sql.empty, count } = relation
  return pagedRelationLoader<T>({
    cursorTag,
    ...(keyType === 'bigint' ? { isKey: (cursorKey: string) => /^\d{1,18}$/.test(cursorKey) } : {}),
    keyOf: (row) => String(row[key]),
    count: count ?? ((parentIds) => countBy(prisma, table, parent, parentIds, where)),
    fetch: (parentIds, requested, limit) => {
      const keyset = newestFirst ? mirrored(requested) : requested
      return windowed(
        prisma,
        Sql.sql`SELECT t.*, t.${Sql.raw(`"${parent}"`)} AS "parentId", t.${Sql.raw(`"${key}"`)} AS "pageKey" FROM ${Sql.raw(`"${table}"`)} t
          WHERE t.${Sql.raw(`"${parent}"`)} IN (${Sql.join(parentIds)}) ${where} ${keysetClause(`t."${key}"`, keyset, keyType)}`,
        keyset,
        limit,
      )
    },
  })
}

/** Pages of the rows on the other side of GroupMembership: a user's groups, or a group's members. */
function acrossMemberships<T extends { id: string }>(
  prisma: Prisma,
  side: {
    parent: 'userId' | 'groupId'
    other: 'groupId' | 'userId'
    table: 'Group' | 'User'
    cursorTag: string
    count?: PagedRelation<T>['count']
  },
) {
  const { parent, other, table, cursorTag, count } = side
  return pagedRelationLoader<T>({
    cursorTag,
    keyOf: (row) => row.id,
    count: count ?? ((parentIds) => countBy(prisma, 'GroupMembership', parent, parentIds)),
    fetch: (parentIds, keyset, limit) =>
      windowed(
        prisma,
        Sql.sql`SELECT o.*, m.${Sql.raw(`"${parent}"`)} AS "parentId", o.id AS "pageKey"
          FROM "GroupMembership" m JOIN ${Sql.raw(`"${table}"`)} o ON o.id = m.${Sql.raw(`"${other}"`)}
          WHERE m.${Sql.raw(`"${parent}"`)} IN (${Sql.join(parentIds)}) ${keysetClause('o.id', keyset)}`,
        keyset,
        limit,
      ),
  })
}

/** A loader per distinct filter within a request, so parents asking with the same filter share its batches. */
function perFilter<F, L>(create: (filter: F) => L): (filter: F) => L {
  const loaders = new Map<string, L>()
  return (filter) => {
    const key = JSON.stringify(filter)
    let loader = loaders.get(key)
    if (!loader) loaders.set(key, (loader = create(filter)))
    return loader
  }
}

/** `AND` conditions for an app-user filter (an empty list of values filters nothing, like an absent one). */
function appUserConditions({ status, syncState }: AppUserFilter): Sql.Sql {
  const anyOf = (column: string, type: string, values: readonly string[] | null | undefined) =>
    values?.length
      ? Sql.sql`AND ${Sql.raw(`"${column}"`)} IN (${Sql.join(values.map((value) => Sql.sql`${value}::${Sql.raw(`"${type}"`)}`))})`
      : Sql.empty
  return Sql.sql`${anyOf('status', 'AppUserStatus', status)} ${anyOf('syncState', 'AppUserSyncState', syncState)}`
}

/**
 * An app's users counted from the counters when the filter names one dimension (or none); both
 * dimensions at once have no counter, so the table counts them.
 */
function appUserCount(
  counters: Counters,
  { status, syncState }: AppUserFilter,
): PagedRelation<AppUser>['count'] | undefined {
  if (status?.length && syncState?.length) return undefined
  if (syncState?.length) return (appIds) => counters.sum('appUser.syncState', appIds, syncState)
  return (appIds) => counters.sum('appUser.status', appIds, status?.length ? status : undefined)
}

export function createLoaders(prisma: Prisma, counters: Counters) {
  return {
    userById: byId<UserRow>((ids) => prisma.user.findMany({ where: { id: { in: ids } } })),
    groupById: byId<Group>((ids) => prisma.group.findMany({ where: { id: { in: ids } } })),
    appById: byId<App>((ids) => prisma.app.findMany({ where: { id: { in: ids } } })),
    appUserById: byId<AppUser>((ids) => prisma.appUser.findMany({ where: { id: { in: ids } } })),

    groupsOfUser: acrossMemberships<Group>(prisma, {
      parent: 'userId',
      other: 'groupId',
      table: 'Group',
      cursorTag: 'group',
    }),
    membersOfGroup: acrossMemberships<UserRow>(prisma, {
      parent: 'groupId',
      other: 'userId',
      table: 'User',
      cursorTag: 'user',
      // A group's members grow with the directory (Everyone is all of it): counted by a counter.
      count: (groupIds) => counters.sum('group.members', groupIds),
    }),

    appUsersOfUser: rowsByColumn<AppUser>(prisma, {
      table: 'AppUser',
      parent: 'userId',
      key: 'id',
      cursorTag: 'appUser',
    }),
    /** An app's users, optionally only those in some statuses or sync states (one loader per filter asked for). */
    appUsersOfApp: perFilter((filter: AppUserFilter) =>
      rowsByColumn<AppUser>(prisma, {
        table: 'AppUser',
        parent: 'appId',
        key: 'id',
        cursorTag: 'appUser',
        where: appUserConditions(filter),
        count: appUserCount(counters, filter),
      }),
    ),
    /** The HTTP requests sent for an app user, newest first. */
    attemptsOfAppUser: rowsByColumn<ProvisioningAttempt>(prisma, {
      table: 'ProvisioningAttempt',
      parent: 'appUserId',
      key: 'id',
      cursorTag: 'attempt',
      keyType: 'bigint',
      newestFirst: true,
    }),
    groupAssignmentsOfApp: rowsByColumn<AppGroupAssignment>(prisma, {
      table: 'AppGroupAssignment',
      parent: 'appId',
      key: 'groupId',
      cursorTag: 'appGroup',
    }),
    appAssignmentsOfGroup: rowsByColumn<AppGroupAssignment>(prisma, {
      table: 'AppGroupAssignment',
      parent: 'groupId',
      key: 'appId',
      cursorTag: 'groupApp',
    }),

    /** Every grant behind an app user (key: `appId userId`), direct first, then groups by priority. */
    grantsOf: new DataLoader<string, Grant[]>(async (keys) => {
      const rows = await grantRows.ofAppUsers(
        prisma,
        keys.map((key) => key.split(' ') as [string, string]),
      )
      const byPair = new Map<string, Grant[]>()
      for (const { appId, userId, scope, groupId } of rows) {
        const key = `${appId} ${userId}`
        byPair.set(key, [...(byPair.get(key) ?? []), { scope, groupId }])
      }
      return keys.map((key) => byPair.get(key) ?? [])
    }),
  }
}

/**
 * A subscription's context lives as long as the subscription, and so would its loaders' caches:
 * each delivered event gets fresh loaders, so "as it is now" is read now, not at the first event.
 */
export function renewLoaders(context: {
  loaders: Loaders
  db: { prisma: Prisma }
  services: { counters: Counters }
}): void {
  context.loaders = createLoaders(context.db.prisma, context.services.counters)
}
