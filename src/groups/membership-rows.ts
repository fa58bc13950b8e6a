import type { Sql } from '../store/unit-connection'

/** A membership row: a user in a group, added directly (ruleId null) or by a rule. */
export interface MembershipRow {
  groupId: string
  userId: string
  ruleId: string | null
}

const columns = (rows: MembershipRow[]) => [
  rows.map((row) => row.groupId),
  rows.map((row) => row.userId),
  rows.map((row) => row.ruleId),
]

/** Every statement that writes the GroupMembership table, each set-based (one statement however many rows). */
export const membershipRows = {
  async insert(sql: Sql, rows: MembershipRow[], created: Date): Promise<void> {
    if (rows.length === 0) return
    await sql.query(
      `INSERT INTO "GroupMembership" ("groupId", "userId", "ruleId", created)
       SELECT added.*, $4::timestamp(3) FROM unnest($1::text[], $2::text[], $3::text[]) AS added
       ON CONFLICT DO NOTHING`,
      [...columns(rows), created],
    )
  },

  async delete(sql: Sql, rows: Pick<MembershipRow, 'groupId' | 'userId'>[]): Promise<void> {
    if (rows.length === 0) return
    await sql.query(
      `DELETE FROM "GroupMembership" m USING unnest($1::text[], $2::text[]) AS gone("groupId", "userId")
        WHERE m."groupId" = gone."groupId" AND m."userId" = gone."userId"`,
      [rows.map((row) => row.groupId), rows.map((row) => row.userId)],
    )
  },

  /** Records which rule now holds each membership (null: it became direct). */
  async setRule(sql: Sql, rows: MembershipRow[]): Promise<void> {
    if (rows.length === 0) return
    await sql.query(
      `UPDATE "GroupMembership" m SET "ruleId" = held."ruleId"
         FROM unnest($1::text[], $2::text[], $3::text[]) AS held("groupId", "userId", "ruleId")
        WHERE m."groupId" = held."groupId" AND m."userId" = held."userId"`,
      columns(rows),
    )
  },

  /** A deleted rule's members stay as direct members. */
  async releaseRule(sql: Sql, ruleId: string): Promise<void> {
    await sql.query(`UPDATE "GroupMembership" SET "ruleId" = NULL WHERE "ruleId" = $1`, [ruleId])
  },
}
