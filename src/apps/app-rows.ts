import type { App } from '../generated/prisma/client'
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

  /**
   * Compare-and-set of the manual provisioning pause: writes only when it changes, so of two
   * concurrent pauses one wins and the other finds the app already paused. Null when nothing
   * changed (already so, or no such app).
   */
  async setProvisioningPaused(sql: Sql, id: string, paused: boolean, now: Date): Promise<App | null> {
    const [row] = await sql.query<App>(
      `UPDATE "App" SET "provisioningPaused" = $2, "lastUpdated" = $3
        WHERE id = $1 AND "provisioningPaused" <> $2 RETURNING *`,
      [id, paused, now],
    )
    return row ?? null
  },
}
