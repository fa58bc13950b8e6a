import { onHoldSettled } from '../apps/app-user-rules'
import { appUserRows } from '../apps/app-user-rows'
import type { Actor } from '../events/event-log'
import type { App, AppUser } from '../generated/prisma/client'
import type { UnitOfWork } from '../store/transaction'
import { recordAppUserChanges } from './app-user-change-events'
import { outbox } from './outbox'

export type HoldDecision = 'release' | 'discard'

/**
 * Settles deactivations the deprovisioning guard held, for app users the caller has locked: a
 * release queues each held job where it stands (its id keeps it in order with the app user's other
 * jobs), a discard drops it and the downstream account stays as it is. Either way the app user
 * becomes OUT_OF_SYNC, with one event each that subscribers see as the app user's change.
 */
export async function settleHolds(
  unit: UnitOfWork,
  app: App,
  held: AppUser[],
  decision: HoldDecision,
  actor: Actor,
): Promise<AppUser[]> {
  if (held.length === 0) return []
  const now = new Date()
  const ids = held.map((appUser) => appUser.id)
  if (decision === 'release') await outbox.releaseHeld(unit.sql, ids, now)
  else await outbox.discardHeld(unit.sql, ids)
  const written = await appUserRows.writeClearingError(
    unit.sql,
    held.map((appUser) => ({ id: appUser.id, ...onHoldSettled(appUser) })),
    now,
  )
  const after = new Map(written.map((appUser) => [appUser.id, appUser]))
  await recordAppUserChanges(unit, {
    type: decision === 'release' ? 'application.provision.guard.release' : 'application.provision.guard.discard',
    actor,
    app,
    changes: held.map((appUser) => ({
      appUser,
      status: after.get(appUser.id)!.status,
      syncState: after.get(appUser.id)!.syncState,
    })),
  })
  return written
}
