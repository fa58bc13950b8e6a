import { Prisma as PrismaSql } from '../generated/prisma/client'
import type { Prisma } from '../store/database'
import type { Sql } from '../store/unit-connection'

/** How an app user holds its app: directly, or through a group. */
export interface Grant {
  scope: 'USER' | 'GROUP'
  groupId: string | null
}

/** Whose grants: some users', some apps', or some app users' (app id, user id). */
type GrantsOf = { userIds: string[] } | { appIds: string[] } | { appUsers: [appId: string, userId: string][] }

/**
 * "Which grants hold an app user", written once: one row per grant, the direct assignment (no
 * group, priority -1 so it sorts first) and each assignment of the app to a group the user is a
 * member of, with its priority. Each branch is filtered on its own indexed columns, so a few
 * users' or apps' grants never scan the others'.
 */
function grants(of: GrantsOf): PrismaSql.Sql {
  const { sql, join, empty } = PrismaSql
  let wanted = empty
  let direct: PrismaSql.Sql
  let viaGroup: PrismaSql.Sql
  if ('userIds' in of) {
    direct = sql`WHERE d."userId" = ANY(${of.userIds}::text[])`
    viaGroup = sql`WHERE m."userId" = ANY(${of.userIds}::text[])`
  } else if ('appIds' in of) {
    direct = sql`WHERE d."appId" = ANY(${of.appIds}::text[])`
    viaGroup = sql`WHERE a."appId" = ANY(${of.appIds}::text[])`
  } else {
    wanted = sql`WITH wanted("appId", "userId") AS (VALUES ${join(of.appUsers.map(([appId, userId]) => sql`(${appId}, ${userId})`))})`
    direct = sql`JOIN wanted w USING ("appId", "userId")`
    viaGroup = sql`JOIN wanted w ON w."appId" = a."appId" AND w."userId" = m."userId"`
  }
  return sql`${wanted}
    SELECT d."appId", d."userId", NULL AS "groupId", -1 AS priority FROM "AppDirectAssignment" d ${direct}
    UNION ALL
    SELECT a."appId", m."userId", a."groupId", a.priority
      FROM "AppGroupAssignment" a JOIN "GroupMembership" m ON m."groupId" = a."groupId" ${viaGroup}`
}

/** Statements on the grants behind app users (AppDirectAssignment, and AppGroupAssignment through GroupMembership). */
export const grantRows = {
  /**
   * The app users the grants call for, in the unit of work: one row per (app, user) with any
   * grant, counting only users not DEPROVISIONED and ACTIVE apps; `direct` when one grant is direct.
   */
  async live(
    sql: Sql,
    of: { userIds: string[] } | { appIds: string[] },
  ): Promise<{ appId: string; userId: string; direct: boolean }[]> {
    const statement = PrismaSql.sql`SELECT g."appId", g."userId", bool_or(g."groupId" IS NULL) AS direct
      FROM (${grants(of)}) g
      JOIN "User" u ON u.id = g."userId" AND u.status <> 'DEPROVISIONED'
      JOIN "App" p ON p.id = g."appId" AND p.status = 'ACTIVE'
      GROUP BY g."appId", g."userId"`
    return sql.query(statement.text, statement.values)
  },

  /** Every grant behind each app user, in one statement (for a loader's batch): direct first, then groups by priority. */
  async ofAppUsers(
    prisma: Prisma,
    appUsers: [appId: string, userId: string][],
  ): Promise<({ appId: string; userId: string } & Grant)[]> {
    const rows = await prisma.$queryRaw<{ appId: string; userId: string; groupId: string | null }[]>(
      PrismaSql.sql`${grants({ appUsers })} ORDER BY priority`,
    )
    return rows.map((row) => ({ ...row, scope: row.groupId ? 'GROUP' : 'USER' }))
  },
}
