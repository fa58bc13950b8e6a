import type { AppUser } from '../generated/prisma/client'
import type { Sql } from '../store/unit-connection'

/** Hand-written statements on the AppUser table (the ORM writes the rest in app-user-sync.ts). */
export const appUserRows = {
  /** The app users of these users or apps on ACTIVE apps: what a sync reconciles (INACTIVE apps are left as they are). */
  async onActiveApps(sql: Sql, of: { userIds: string[] } | { appIds: string[] }): Promise<AppUser[]> {
    const [column, ids] = 'userIds' in of ? ['"userId"', of.userIds] : ['"appId"', of.appIds]
    return sql.query<AppUser>(
      `SELECT au.* FROM "AppUser" au JOIN "App" p ON p.id = au."appId" AND p.status = 'ACTIVE' WHERE au.${column} = ANY($1::text[])`,
      [ids],
    )
  },
}
