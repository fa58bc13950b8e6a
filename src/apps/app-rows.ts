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
   * A downstream 429 holds the app's whole provisioning queue until `until` (a later hold wins).
   * Written under the users' locks (step 4 after step 2 of store/locks.ts).
   */
  async holdProvisioningUntil(sql: Sql, holds: { appId: string; until: Date }[]): Promise<void> {
    if (holds.length === 0) return
    await sql.query(
      `UPDATE "App" a SET "provisioningRateLimitedUntil" = GREATEST(COALESCE(a."provisioningRateLimitedUntil", h.until), h.until)
       FROM (SELECT "appId", max(until) AS until FROM unnest($1::text[], $2::timestamp[]) AS x("appId", until) GROUP BY "appId") h
       WHERE a.id = h."appId"`,
      [holds.map((hold) => hold.appId), holds.map((hold) => hold.until.toISOString())],
    )
  },

  /** Connection tokens not starting with `prefix` (stored before sealing), locked until commit. */
  async tokensWithout(sql: Sql, prefix: string): Promise<{ id: string; token: string }[]> {
    return sql.query(
      `SELECT id, "provisioningToken" AS token FROM "App"
        WHERE "provisioningToken" IS NOT NULL AND NOT starts_with("provisioningToken", $1)
        ORDER BY id FOR UPDATE`,
      [prefix],
    )
  },

  /** Replaces the connection tokens of many apps in one statement. */
  async replaceTokens(sql: Sql, rows: { id: string; token: string }[]): Promise<void> {
    await sql.query(
      `UPDATE "App" SET "provisioningToken" = given.token
         FROM unnest($1::text[], $2::text[]) AS given(id, token) WHERE "App".id = given.id`,
      [rows.map((row) => row.id), rows.map((row) => row.token)],
    )
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

  /** The apps with these ids, as they are now. */
  async byIds(sql: Sql, ids: string[]): Promise<App[]> {
    return sql.query<App>(`SELECT * FROM "App" WHERE id = ANY($1::text[])`, [ids])
  },

  /**
   * Keeps these apps from being deleted until commit (FOR KEY SHARE: updates of the apps go on), and
   * returns those that still exist, as they are. Deleting an app takes its row first, then its app users and
   * their jobs; a transaction that writes those jobs and app users takes this first (store/locks.ts, 4).
   */
  async keepFromDeletion(sql: Sql, ids: string[]): Promise<App[]> {
    return sql.query<App>(`SELECT * FROM "App" WHERE id = ANY($1::text[]) ORDER BY id FOR KEY SHARE`, [ids])
  },
}
