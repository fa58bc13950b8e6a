import { createPubSub } from '@graphql-yoga/subscription'
import type { AppUserStatus, SyncState } from '../apps/app-user-rules'
import type { UserStatus } from '../users/status-machine'
import type { StoredEvent } from './event-log'

/** A committed user status change, as a hint: subscribers read the user as it is now. */
export interface UserStatusChange {
  userId: string
  previousStatus: UserStatus
  status: UserStatus
  event: StoredEvent
}

/**
 * A committed change of an app user's status or syncState, as a hint: subscribers read the app
 * user as it is now. `previous*` are null for an app user the change created; `event` is null
 * for a change that records none (the worker marking a job SYNCING).
 */
export interface AppUserStatusChange {
  appUserId: string
  appId: string
  userId: string
  previousStatus: AppUserStatus | null
  status: AppUserStatus
  previousSyncState: SyncState | null
  syncState: SyncState
  event: StoredEvent | null
}

/** Each topic name bound to its payload type, so nobody subscribes to what nobody publishes. */
export type Topics = {
  USER_STATUS_CHANGED: [UserStatusChange]
  APP_USER_STATUS_CHANGED: [AppUserStatusChange]
  LIFECYCLE_EVENT: [StoredEvent]
}

export type TopicName = keyof Topics

export function createTopics() {
  return createPubSub<Topics>()
}

export type PubSub = ReturnType<typeof createTopics>

/** The data a status-changing event carries, read back when publishing. */
export interface StatusChangeData {
  previousStatus: UserStatus
  status: UserStatus
}

/** The data an event about one app user carries (membership, provisioning): published as its change. */
type AppUserChangeData = Omit<AppUserStatusChange, 'event'>

const isAppUserChange = (data: Partial<AppUserChangeData> | null): data is AppUserChangeData =>
  Boolean(data?.appUserId && data.status && data.syncState)

/** Publishes committed events (never before commit): every event, user status changes and app-user changes. */
export function publishCommitted(pubSub: PubSub, events: StoredEvent[]): void {
  for (const event of events) {
    pubSub.publish('LIFECYCLE_EVENT', event)
    // An app user's status is not its user's, though the event may name the user first.
    const appUserChange = event.data as Partial<AppUserChangeData> | null
    if (isAppUserChange(appUserChange)) {
      publishAppUserChange(pubSub, appUserChange, event)
      continue
    }
    const change = event.data as Partial<StatusChangeData> | null
    if (
      event.targetType === 'User' &&
      event.targetId &&
      change?.status &&
      change.previousStatus &&
      change.status !== change.previousStatus
    ) {
      pubSub.publish('USER_STATUS_CHANGED', {
        userId: event.targetId,
        previousStatus: change.previousStatus,
        status: change.status,
        event,
      })
    }
  }
}

/** Publishes an app-user change after its commit; without an event for a change that records none. */
export function publishAppUserChange(pubSub: PubSub, change: AppUserChangeData, event: StoredEvent | null = null) {
  pubSub.publish('APP_USER_STATUS_CHANGED', {
    appUserId: change.appUserId,
    appId: change.appId,
    userId: change.userId,
    previousStatus: change.previousStatus ?? null,
    status: change.status,
    previousSyncState: change.previousSyncState ?? null,
    syncState: change.syncState,
    event,
  })
}
