import type { User } from '../generated/prisma/client'
import { SHARED_GRANTS_GATE } from '../store/locks'
import { assignments, insertReturning } from '../store/sql-rows'
import type { Sql } from '../store/unit-connection'

/**
 * The user lifecycle's statements, hand-written: every lifecycle request runs them, and through
 * the driver they cost a fraction of Prisma's client-side work (`npm run bench -- write`).
 */
export const userRows = {
  /** Inserts a new user under the shared grants gate (store/locks.ts): it joins Everyone and is granted its apps. */
  async insert(sql: Sql, row: Record<string, unknown>): Promise<User> {
    const statement = insertReturning('User', row, SHARED_GRANTS_GATE)
    return (await sql.query<User>(statement.text, statement.params))[0]
  },

  /** Inserts new STAGED-or-later users in one statement (an import's page); the caller holds the grants gate. */
  async insertMany(
    sql: Sql,
    rows: {
      id: string
      status: string
      login: string
      email: string
      firstName: string | null
      lastName: string | null
    }[],
    now: Date,
  ): Promise<User[]> {
    if (rows.length === 0) return []
    return sql.query<User>(
      `INSERT INTO "User" (id, status, login, email, "firstName", "lastName", created, "lastUpdated", "statusChanged", activated)
       SELECT n.id, n.status::"UserStatus", n.login, n.email, n."firstName", n."lastName", $7, $7,
              CASE WHEN n.status = 'STAGED' THEN NULL ELSE $7::timestamp(3) END, NULL
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
           AS n(id, status, login, email, "firstName", "lastName")
       RETURNING *`,
      [
        rows.map((row) => row.id),
        rows.map((row) => row.status),
        rows.map((row) => row.login),
        rows.map((row) => row.email),
        rows.map((row) => row.firstName),
        rows.map((row) => row.lastName),
        now,
      ],
    )
  },

  /**
   * The users a page of imported accounts may match (case-insensitively by login, email, or first and
   * last name), each with the externalId of its live app user of the app, if any.
   */
  async importCandidates(
    sql: Sql,
    appId: string,
    keys: { logins: string[]; emails: string[]; names: { firstName: string; lastName: string }[] },
  ): Promise<(User & { linkedExternalId: string | null })[]> {
    return sql.query<User & { linkedExternalId: string | null }>(
      `SELECT u.*, au."externalId" AS "linkedExternalId"
         FROM "User" u
         LEFT JOIN "AppUser" au ON au."userId" = u.id AND au."appId" = $1 AND au.status <> 'DEPROVISIONED'
        WHERE lower(u.login) = ANY($2::text[]) OR lower(u.email) = ANY($3::text[])
           OR (lower(u."firstName"), lower(u."lastName")) IN (SELECT * FROM unnest($4::text[], $5::text[]))`,
      [
        appId,
        keys.logins,
        keys.emails,
        keys.names.map((name) => name.firstName),
        keys.names.map((name) => name.lastName),
      ],
    )
  },

  /**
   * Locks users (ascending id) for the rest of the transaction and reads them, after the shared
   * grants gate: steps 1 and 2 of the lock order (store/locks.ts). Missing ids are left out.
   */
  async lock(sql: Sql, ids: string[]): Promise<User[]> {
    return sql.query<User>(
      `SELECT * FROM "User" WHERE ${SHARED_GRANTS_GATE} AND id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE`,
      [ids],
    )
  },

  /** Compare-and-set: writes only while the status is still `from`; null when it is not (or the user is gone). */
  async updateIfStatus(sql: Sql, id: string, from: string, writes: Record<string, unknown>): Promise<User | null> {
    const set = assignments(writes, 2)
    return (
      (
        await sql.query<User>(`UPDATE "User" SET ${set.text} WHERE id = $1 AND status = $2 RETURNING *`, [
          id,
          from,
          ...set.params,
        ])
      )[0] ?? null
    )
  },

  /** Deletes the user if its status is still `status`; false when it is not (or the user is gone). */
  async deleteIfStatus(sql: Sql, id: string, status: string): Promise<boolean> {
    return (await sql.query('DELETE FROM "User" WHERE id = $1 AND status = $2 RETURNING id', [id, status])).length === 1
  },
}

export type OneTimeTokenPurpose = 'ACTIVATION' | 'RESET_PASSWORD'

export const oneTimeTokenRows = {
  /** Stores a new token, dropping the user's earlier ones of the same purpose (one statement). */
  async replace(
    sql: Sql,
    token: { tokenHash: string; userId: string; purpose: OneTimeTokenPurpose; expiresAt: Date; created: Date },
  ) {
    await sql.query(
      `WITH dropped AS (DELETE FROM "OneTimeToken" WHERE "userId" = $2 AND purpose = $3)
       INSERT INTO "OneTimeToken" ("tokenHash", "userId", purpose, "expiresAt", created) VALUES ($1, $2, $3, $4, $5)`,
      [token.tokenHash, token.userId, token.purpose, token.expiresAt, token.created],
    )
  },

  async deleteAll(sql: Sql, userId: string) {
    await sql.query('DELETE FROM "OneTimeToken" WHERE "userId" = $1', [userId])
  },
}
