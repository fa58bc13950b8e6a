import type { ProvisioningPolicy } from './features'

/**
 * The app-user status machine as data (domain.md 3.2-3.3): what a grant or the loss of the
 * last grant does to an assignment, by the app's provisioning policy. Pure; the cascades apply it.
 */
export type AppUserStatus = 'STAGED' | 'PROVISIONED' | 'ACTIVE' | 'INACTIVE' | 'DEPROVISIONED'
export type SyncState = 'DISABLED' | 'OUT_OF_SYNC' | 'SYNCING' | 'SYNCHRONIZED' | 'ERROR' | 'HELD'
export type JobType = 'CREATE' | 'UPDATE' | 'DEACTIVATE' | 'REACTIVATE' | 'PASSWORD'

export interface AppUserChange {
  status: AppUserStatus
  syncState: SyncState
  job: JobType | null
}

/** A user gains an app (new assignment, or a DEPROVISIONED tombstone revived). */
export function onGrant(policy: ProvisioningPolicy, previous: { externalId: string | null } | null): AppUserChange {
  if (!policy.pushes) return { status: 'ACTIVE', syncState: 'DISABLED', job: null }
  // An account that exists downstream is re-enabled rather than created again.
  return { status: 'STAGED', syncState: 'OUT_OF_SYNC', job: previous?.externalId ? 'REACTIVATE' : 'CREATE' }
}

/** A user loses the last grant of an app (unassigned, left the granting group, or deactivated). */
export function onRevoke(
  policy: ProvisioningPolicy,
  current: { externalId: string | null; syncState: SyncState },
): AppUserChange {
  if (policy.deactivates && current.externalId)
    return { status: 'DEPROVISIONED', syncState: 'OUT_OF_SYNC', job: 'DEACTIVATE' }
  return { status: 'DEPROVISIONED', syncState: policy.pushes ? current.syncState : 'DISABLED', job: null }
}

/** The user's profile changed: apps that push profiles get an UPDATE job. */
export function onProfileChange(
  policy: ProvisioningPolicy,
  current: { status: AppUserStatus; externalId: string | null },
): AppUserChange | null {
  if (!policy.pushesProfile || current.status === 'DEPROVISIONED' || !current.externalId) return null
  return { status: current.status, syncState: 'OUT_OF_SYNC', job: 'UPDATE' }
}

/**
 * The user's password was set or changed: apps that push Okta password changes get a PASSWORD job
 * for an account that is linked, or about to be (its create is still queued or running, and the
 * PASSWORD job runs after it). A pending create does not change the app user's syncState.
 */
export function onPasswordChange(
  policy: ProvisioningPolicy,
  current: { status: AppUserStatus; syncState: SyncState; externalId: string | null; createPending: boolean },
): AppUserChange | null {
  if (!policy.pushesPasswordChanges || current.status === 'DEPROVISIONED') return null
  if (current.externalId) return { status: current.status, syncState: 'OUT_OF_SYNC', job: 'PASSWORD' }
  return current.createPending ? { status: current.status, syncState: current.syncState, job: 'PASSWORD' } : null
}

/**
 * An administrator retries provisioning (retryProvisioning): the work the app user's state still
 * needs is queued again. Null when there is nothing to send downstream.
 */
export function onRetry(
  policy: ProvisioningPolicy,
  current: { status: AppUserStatus; externalId: string | null },
): AppUserChange | null {
  if (!policy.pushes) return null
  if (current.status === 'DEPROVISIONED') {
    return policy.deactivates && current.externalId
      ? { status: 'DEPROVISIONED', syncState: 'OUT_OF_SYNC', job: 'DEACTIVATE' }
      : null
  }
  // Never provisioned (a failed create, or assigned before provisioning was enabled): create or link.
  if (!current.externalId) return { status: 'STAGED', syncState: 'OUT_OF_SYNC', job: 'CREATE' }
  if (current.status === 'STAGED') return { status: 'STAGED', syncState: 'OUT_OF_SYNC', job: 'REACTIVATE' }
  return { status: current.status, syncState: 'OUT_OF_SYNC', job: 'UPDATE' }
}

/** An administrator dismisses a provisioning error: it is cleared without retrying, the status kept. */
export function onDismiss(current: { status: AppUserStatus; syncState: SyncState }): AppUserChange | null {
  if (current.syncState !== 'ERROR') return null
  return { status: current.status, syncState: 'OUT_OF_SYNC', job: null }
}

/**
 * An administrator released or discarded a deactivation the deprovisioning guard held: either way
 * the app user keeps its status and waits no more. Released, its job is queued (the worker moves
 * it on); discarded, nothing is owed that will be sent, so it stays OUT_OF_SYNC with the downstream.
 */
export function onHoldSettled(current: { status: AppUserStatus }): AppUserChange {
  return { status: current.status, syncState: 'OUT_OF_SYNC', job: null }
}

/**
 * A job succeeded downstream. A create or reactivation makes a STAGED app user PROVISIONED; an
 * app user that lost the app while the job ran stays DEPROVISIONED, and the account just made or
 * re-enabled is deactivated again when the app deactivates. An app user whose deactivation the
 * guard holds behind this job stays HELD: that work is still owed.
 */
export function onJobSucceeded(
  policy: ProvisioningPolicy,
  job: JobType,
  current: { status: AppUserStatus; syncState: SyncState },
): AppUserChange {
  const enables = job === 'CREATE' || job === 'REACTIVATE'
  if (enables && current.status === 'DEPROVISIONED')
    return policy.deactivates
      ? { status: 'DEPROVISIONED', syncState: 'OUT_OF_SYNC', job: 'DEACTIVATE' }
      : { status: 'DEPROVISIONED', syncState: 'SYNCHRONIZED', job: null }
  const status = enables && current.status === 'STAGED' ? 'PROVISIONED' : current.status
  return { status, syncState: current.syncState === 'HELD' ? 'HELD' : 'SYNCHRONIZED', job: null }
}

/**
 * A job claimed by a worker but not yet sent, whose app user has since lost the app (or is gone):
 * only a deactivation is still owed. A create, reactivation, profile or password push is withdrawn
 * unsent, as a queued one is cancelled: superseded work is collapsed, not sent and then undone.
 */
export function isWithdrawn(job: JobType, current: { status: AppUserStatus } | null): boolean {
  return current === null || (current.status === 'DEPROVISIONED' && job !== 'DEACTIVATE')
}

/**
 * A job stopped short of success. A failure puts the app user in ERROR; a retry waits (SYNCING goes
 * back to OUT_OF_SYNC); a skip (the capability was switched off meanwhile) is a success that sent
 * nothing: its status moves as a success's would, its syncState waits. A withdrawn job (isWithdrawn)
 * moves nothing but SYNCING: the app user may have been assigned again since it was withdrawn, and
 * the work that assignment queued comes next. A job handed back to the queue unsent (its app was
 * paused) waits the same way.
 */
export function onJobStopped(
  policy: ProvisioningPolicy,
  job: JobType,
  current: { status: AppUserStatus; syncState: SyncState },
  how: 'SKIPPED' | 'WITHDRAWN' | 'HANDED_BACK' | 'RETRY_SCHEDULED' | 'FAILED',
): AppUserChange {
  if (how === 'FAILED') return { status: current.status, syncState: 'ERROR', job: null }
  const waiting: SyncState = current.syncState === 'SYNCING' ? 'OUT_OF_SYNC' : current.syncState
  const status = how === 'SKIPPED' ? onJobSucceeded(policy, job, current).status : current.status
  return { status, syncState: waiting, job: null }
}
