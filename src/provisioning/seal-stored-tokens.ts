import { appRows } from '../apps/app-rows'
import type { RunInTransaction } from '../store/unit-connection'
import { SEALED_PREFIX, type SecretBox } from './secrets'

/**
 * Seals the connection tokens stored in clear (before sealing existed, or while PostgreSQL ran
 * without SECRET_KEY), in one transaction at start. Sealed tokens are left alone, so running it
 * again, or in several processes at once, changes nothing more. Returns how many were sealed.
 */
export async function sealStoredTokens(transaction: RunInTransaction, secrets: SecretBox): Promise<number> {
  if (!secrets.configured) return 0
  return transaction(async (sql) => {
    const clear = await appRows.tokensWithout(sql, SEALED_PREFIX)
    if (clear.length > 0)
      await appRows.replaceTokens(
        sql,
        clear.map((row) => ({ id: row.id, token: secrets.seal(row.token) })),
      )
    return clear.length
  })
}
