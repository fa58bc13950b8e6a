import type { Sql } from '../store/unit-connection'

/** Statements on the App table that the ORM cannot express. */
export const appRows = {
  /**
   * The app's status, read under a share lock held to commit (step 4 of store/locks.ts, after the
   * user's lock): a concurrent activation or deactivation waits for this use case, or this read
   * waits for it and sees its result, so a grant is never written against a status that changed.
   */
  async statusForShare(sql: Sql, id: string): Promise<string | undefined> {
    const [row] = await sql.query<{ status: string }>(`SELECT status FROM "App" WHERE id = $1 FOR SHARE`, [id])
    return row?.status
  },
}
