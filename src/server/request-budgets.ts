import { RateLimiterMemory, RateLimiterPostgres, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Database } from '../store/database'

const WINDOW_SECONDS = 60
/** Created by our migration (prisma/schema.prisma, RateLimitBudget), not by the library at runtime. */
const TABLE = 'rate_limit_budgets'

/**
 * The per-token request budgets (RATE_LIMIT_PER_MINUTE in a fixed one-minute window), or null when
 * the limit is off. On PostgreSQL they are kept in the database, so every process serving the same
 * database spends one budget per token; while the database cannot be reached, each process falls
 * back to its own memory budget rather than refusing or failing requests. The embedded database
 * has one process: memory.
 */
export function requestBudgets(db: Database, perMinute: number): RateLimiterAbstract | null {
  if (perMinute <= 0) return null
  const inMemory = () => new RateLimiterMemory({ points: perMinute, duration: WINDOW_SECONDS })
  if (!db.pgPool) return inMemory()
  return new RateLimiterPostgres({
    storeClient: db.pgPool,
    storeType: 'pool',
    tableName: TABLE,
    tableCreated: true,
    points: perMinute,
    duration: WINDOW_SECONDS,
    insuranceLimiter: inMemory(),
  })
}
