import type { AppUser } from '../generated/prisma/client'
import type { Sql } from '../store/unit-connection'
import type { AppUserStatus, SyncState } from './app-user-rules'

/** A decided change of one app user's status and syncState (provisioning operations). */
export interface AppUserWrite {
  id: string
  status: AppUserStatus
  syncState: SyncState
}

/** What provisioning settles on one app user. */
export interface ProvisioningWrite {
  id: string
  status: AppUserStatus
  syncState: SyncState
  /** Set once, when a create or link succeeds; an app user's externalId never changes afterwards. */
  externalId: string | null
  /** The error to show, null to clear it, undefined to keep it. */
  provisioningError: unknown
  /** When the downstream last matched our profile; undefined keeps it. */
  lastSync?: Date
}

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

  /** The app users with these ids, as they are now (the caller holds their users' locks). */
  async byIds(sql: Sql, ids: string[]): Promise<AppUser[]> {
    return sql.query<AppUser>(`SELECT * FROM "AppUser" WHERE id = ANY($1::text[])`, [ids])
  },

  /** Writes what provisioning settled, in one statement; statusChanged moves only with the status. */
  async applyProvisioning(sql: Sql, writes: ProvisioningWrite[], now: Date): Promise<void> {
    if (writes.length === 0) return
    await sql.query(
      `UPDATE "AppUser" au SET
         status = w.status::"AppUserStatus",
         "syncState" = w."syncState"::"AppUserSyncState",
         "externalId" = COALESCE(au."externalId", w."externalId"),
         "provisioningError" = CASE WHEN w."keepError" THEN au."provisioningError" ELSE w.error END,
         "lastSync" = COALESCE(w."lastSync", au."lastSync"),
         "statusChanged" = CASE WHEN au.status::text = w.status THEN au."statusChanged" ELSE $1 END,
         "lastUpdated" = $1
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::boolean[], $8::timestamp[])
         AS w(id, status, "syncState", "externalId", error, "keepError", "lastSync")
       WHERE au.id = w.id`,
      [
        now,
        writes.map((write) => write.id),
        writes.map((write) => write.status),
        writes.map((write) => write.syncState),
        writes.map((write) => write.externalId),
        writes.map((write) => (write.provisioningError == null ? null : JSON.stringify(write.provisioningError))),
        writes.map((write) => write.provisioningError === undefined),
        writes.map((write) => write.lastSync?.toISOString() ?? null),
      ],
    )
  },

  /**
   * Locks and reads the app users with these ids, marking SYNCING those OUT_OF_SYNC while their job
   * runs (a failed or held one keeps its state), in one statement: `marked` says which it changed.
   * The caller holds their users' locks, so no other writer has changed them since the statement began.
   */
  async readMarkingSyncing(sql: Sql, ids: string[], now: Date): Promise<(AppUser & { marked: boolean })[]> {
    return sql.query<AppUser & { marked: boolean }>(
      `WITH prior AS (SELECT id, "syncState" AS before FROM "AppUser" WHERE id = ANY($1::text[]) FOR NO KEY UPDATE),
       marked AS (
         UPDATE "AppUser" au SET "syncState" = 'SYNCING', "lastUpdated" = $2
         FROM prior WHERE au.id = prior.id AND prior.before = 'OUT_OF_SYNC'
         RETURNING au.*)
       SELECT marked.*, true AS marked FROM marked
       UNION ALL
       SELECT au.*, false AS marked FROM "AppUser" au JOIN prior ON prior.id = au.id AND prior.before <> 'OUT_OF_SYNC'`,
      [ids, now],
    )
  },
  /** Locks the app user of (app, user) for the rest of the transaction and reads it; undefined when there is none. */
  async lockOne(sql: Sql, appId: string, userId: string): Promise<AppUser | undefined> {
    const [row] = await sql.query<AppUser>(
      `SELECT * FROM "AppUser" WHERE "appId" = $1 AND "userId" = $2 FOR NO KEY UPDATE`,
      [appId, userId],
    )
    return row
  },

  /**
   * Locks (ascending id) and reads the app users of an app whose deactivation the guard holds:
   * those of `ids`, or all when `ids` is null.
   */
  async lockHeld(sql: Sql, appId: string, ids: string[] | null): Promise<AppUser[]> {
    return sql.query<AppUser>(
      `SELECT au.* FROM "AppUser" au
        WHERE au."appId" = $1 AND ($2::text[] IS NULL OR au.id = ANY($2::text[]))
          AND EXISTS (SELECT 1 FROM "ProvisioningJob" j WHERE j."appUserId" = au.id AND j.state = 'HELD')
        ORDER BY au.id FOR NO KEY UPDATE OF au`,
      [appId, ids],
    )
  },

  /** Locks (ascending id) and reads the app users of an app in one syncState. */
  async lockInSyncState(sql: Sql, appId: string, syncState: SyncState): Promise<AppUser[]> {
    return sql.query<AppUser>(
      `SELECT * FROM "AppUser" WHERE "appId" = $1 AND "syncState" = $2::"AppUserSyncState" ORDER BY id FOR NO KEY UPDATE`,
      [appId, syncState],
    )
  },

  /**
   * Writes each app user's status and syncState and clears its provisioning error, in one
   * statement; statusChanged moves only where the status did. Returns the rows as written.
   */
  async writeClearingError(sql: Sql, writes: AppUserWrite[], now: Date): Promise<AppUser[]> {
    if (writes.length === 0) return []
    return sql.query<AppUser>(
      `UPDATE "AppUser" au
          SET status = w.status::"AppUserStatus", "syncState" = w."syncState"::"AppUserSyncState",
              "provisioningError" = NULL, "lastUpdated" = $4,
              "statusChanged" = CASE WHEN au.status = w.status::"AppUserStatus" THEN au."statusChanged" ELSE $4 END
         FROM unnest($1::text[], $2::text[], $3::text[]) AS w(id, status, "syncState")
        WHERE au.id = w.id
       RETURNING au.*`,
      [
        writes.map((write) => write.id),
        writes.map((write) => write.status),
        writes.map((write) => write.syncState),
        now,
      ],
    )
  },

  /** The externalIds among these that a live app user of the app already carries (linked before). */
  async linkedExternalIds(sql: Sql, appId: string, externalIds: string[]): Promise<Set<string>> {
    const rows = await sql.query<{ externalId: string }>(
      `SELECT "externalId" FROM "AppUser"
        WHERE "appId" = $1 AND "externalId" = ANY($2::text[]) AND status <> 'DEPROVISIONED'`,
      [appId, externalIds],
    )
    return new Set(rows.map((row) => row.externalId))
  },

  /**
   * Links users to downstream accounts (an import): each app user of the app, created or updated,
   * takes the account's id as externalId, the given status and syncState, scope USER, no error.
   * One statement; returns the rows as written.
   */
  async link(
    sql: Sql,
    appId: string,
    links: { id: string; userId: string; externalId: string }[],
    state: { status: AppUserStatus; syncState: SyncState },
    now: Date,
  ): Promise<AppUser[]> {
    if (links.length === 0) return []
    return sql.query<AppUser>(
      `INSERT INTO "AppUser" (id, "appId", "userId", scope, status, "syncState", "externalId", created, "lastUpdated", "statusChanged")
       SELECT l.id, $1, l."userId", 'USER', $5::"AppUserStatus", $6::"AppUserSyncState", l."externalId", $7, $7, $7
         FROM unnest($2::text[], $3::text[], $4::text[]) AS l(id, "userId", "externalId")
       ON CONFLICT ("appId", "userId") DO UPDATE SET
         scope = 'USER', status = EXCLUDED.status, "syncState" = EXCLUDED."syncState",
         "externalId" = EXCLUDED."externalId", "provisioningError" = NULL, "lastUpdated" = EXCLUDED."lastUpdated",
         "statusChanged" = CASE WHEN "AppUser".status = EXCLUDED.status THEN "AppUser"."statusChanged" ELSE EXCLUDED."statusChanged" END
       RETURNING *`,
      [
        appId,
        links.map((link) => link.id),
        links.map((link) => link.userId),
        links.map((link) => link.externalId),
        state.status,
        state.syncState,
        now,
      ],
    )
  },
}
