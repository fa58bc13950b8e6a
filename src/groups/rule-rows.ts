import type { GroupRule } from '../generated/prisma/client'
import type { Sql } from '../store/unit-connection'

/** Hand-written statements on the GroupRule table. */
export const ruleRows = {
  /** Every ACTIVE rule, oldest first (the order rules are evaluated in). */
  active: (sql: Sql) => sql.query<GroupRule>(`SELECT * FROM "GroupRule" WHERE status = 'ACTIVE' ORDER BY id`),
}
