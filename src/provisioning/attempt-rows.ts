import type { Sql } from '../store/unit-connection'
import type { AttemptRecord } from './job-runner'

/** The attempt log (AppUser.attempts): one row per HTTP request the engine sent. */
export const attemptRows = {
  /** Appends attempts in one statement, in the order given (ids grow with it: newest first is id descending). */
  async insertMany(sql: Sql, rows: (AttemptRecord & { appUserId: string; appId: string })[]): Promise<void> {
    if (rows.length === 0) return
    const column = <T>(read: (row: (typeof rows)[number]) => T) => rows.map(read)
    await sql.query(
      `INSERT INTO "ProvisioningAttempt"
         ("appUserId", "appId", operation, method, path, "httpStatus", "durationMs", outcome, detail, at)
       SELECT a."appUserId", a."appId", a.operation::"ProvisioningOperation", a.method, a.path, a."httpStatus",
              a."durationMs", a.outcome::"ProvisioningAttemptOutcome", a.detail, a.at
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::text[],
                     $9::text[], $10::timestamp[])
           WITH ORDINALITY AS a("appUserId", "appId", operation, method, path, "httpStatus", "durationMs", outcome,
                                detail, at, position)
        ORDER BY a.position`,
      [
        column((row) => row.appUserId),
        column((row) => row.appId),
        column((row) => row.operation),
        column((row) => row.method),
        column((row) => row.path),
        column((row) => row.httpStatus),
        column((row) => row.durationMs),
        column((row) => row.outcome),
        column((row) => row.detail),
        column((row) => row.at.toISOString()),
      ],
    )
  },
}
