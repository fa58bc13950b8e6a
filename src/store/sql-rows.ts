/**
 * Building blocks for hand-written statements on Prisma's tables, whose column names are the
 * models' field names. Column names come from our own code, never from requests.
 */

const quote = (name: string) => `"${name}"`

/** A JSON column's value is sent as text; arrays go to PostgreSQL arrays (text[] columns). */
const driverValue = (value: unknown) =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)
    ? JSON.stringify(value)
    : value

/**
 * `INSERT INTO "Table" (...) VALUES (...) RETURNING *` for one row; undefined fields take their
 * defaults. With a `condition`, the row is inserted `SELECT …  WHERE condition` (e.g. a lock taken first).
 */
export function insertReturning(
  table: string,
  row: Record<string, unknown>,
  condition?: string,
): { text: string; params: unknown[] } {
  const entries = Object.entries(row).filter(([, value]) => value !== undefined)
  const columns = entries.map(([name]) => quote(name)).join(', ')
  const placeholders = entries.map((_, index) => `$${index + 1}`).join(', ')
  const values = condition ? `SELECT ${placeholders} WHERE ${condition}` : `VALUES (${placeholders})`
  return {
    text: `INSERT INTO ${quote(table)} (${columns}) ${values} RETURNING *`,
    params: entries.map(([, value]) => driverValue(value)),
  }
}

/** `"a" = $n, "b" = $n+1, ...` for the defined fields of `writes`, numbered after `paramsBefore`. */
export function assignments(
  writes: Record<string, unknown>,
  paramsBefore: number,
): { text: string; params: unknown[] } {
  const entries = Object.entries(writes).filter(([, value]) => value !== undefined)
  return {
    text: entries.map(([name], index) => `${quote(name)} = $${paramsBefore + index + 1}`).join(', '),
    params: entries.map(([, value]) => driverValue(value)),
  }
}
