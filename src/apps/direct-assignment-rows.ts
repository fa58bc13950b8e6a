import type { Sql } from '../store/unit-connection'

/** Statements on the AppDirectAssignment table (direct grants). */
export const directAssignmentRows = {
  /** A deactivated user's direct grants go on ACTIVE apps; those on INACTIVE apps stay as they are (domain.md 1.6). */
  async deleteOnActiveApps(sql: Sql, userId: string): Promise<void> {
    await sql.query(
      `DELETE FROM "AppDirectAssignment" d USING "App" p WHERE d."userId" = $1 AND p.id = d."appId" AND p.status = 'ACTIVE'`,
      [userId],
    )
  },

  /** Direct grants of one app to these users, in one statement; a grant that exists is kept. */
  async insertMany(sql: Sql, appId: string, userIds: string[], now: Date): Promise<void> {
    if (userIds.length === 0) return
    await sql.query(
      `INSERT INTO "AppDirectAssignment" ("appId", "userId", created)
       SELECT $1, granted, $3 FROM unnest($2::text[]) AS granted ON CONFLICT DO NOTHING`,
      [appId, userIds, now],
    )
  },
}
