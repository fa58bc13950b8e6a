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
export type TopicPayload<K extends TopicName> = Topics[K][0]

/** This process's topics: publish, and listen at once (a pub-sub iterator subscribes only when first read). */
export function createTopics() {
  const target = new EventTarget()
  const pubSub = createPubSub<Topics>({ eventTarget: target })
  return Object.assign(pubSub, {
    listen<K extends TopicName>(topic: K, listener: (payload: TopicPayload<K>) => void): () => void {
      const handler = (event: Event) => listener((event as CustomEvent<TopicPayload<K>>).detail)
      target.addEventListener(topic, handler)
      return () => target.removeEventListener(topic, handler)
    },
  })
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

/** The app-user change a stored event records, if any. */
function appUserChangeOf(event: StoredEvent): AppUserStatusChange | null {
  const data = event.data as Partial<AppUserChangeData> | null
  return isAppUserChange(data) ? appUserChange(data, event) : null
}

/** The user status change a stored event records, if any: an app user's status is not its user's, though the event may name the user first. */
function userStatusChangeOf(event: StoredEvent): UserStatusChange | null {
  const change = event.data as Partial<StatusChangeData> | null
  if (isAppUserChange(event.data as Partial<AppUserChangeData> | null)) return null
  if (event.targetType !== 'User' || !event.targetId || !change?.status || !change.previousStatus) return null
  if (change.status === change.previousStatus) return null
  return { userId: event.targetId, previousStatus: change.previousStatus, status: change.status, event }
}

/**
 * What each topic publishes for a stored event (null: nothing). Live delivery and the replay of a
 * resumed subscription both derive payloads here, so they cannot disagree.
 */
export const TOPIC_PAYLOADS: { [K in TopicName]: (event: StoredEvent) => TopicPayload<K> | null } = {
  LIFECYCLE_EVENT: (event) => event,
  USER_STATUS_CHANGED: userStatusChangeOf,
  APP_USER_STATUS_CHANGED: appUserChangeOf,
}

const TOPIC_NAMES = Object.keys(TOPIC_PAYLOADS) as TopicName[]

/** The stored event a payload derives from; null for an app-user change that records none. */
export const eventOf = <K extends TopicName>(topic: K, payload: TopicPayload<K>): StoredEvent | null =>
  topic === 'LIFECYCLE_EVENT' ? (payload as StoredEvent) : (payload as UserStatusChange | AppUserStatusChange).event

/** Publishes committed events in commit order (never before commit), on every topic that derives a payload from them. */
export function publishCommitted(pubSub: PubSub, events: StoredEvent[]): void {
  for (const event of events) {
    for (const topic of TOPIC_NAMES) {
      const payload = TOPIC_PAYLOADS[topic](event)
      if (payload) pubSub.publish(topic, payload as never)
    }
  }
}

const appUserChange = (change: AppUserChangeData, event: StoredEvent | null): AppUserStatusChange => ({
  appUserId: change.appUserId,
  appId: change.appId,
  userId: change.userId,
  previousStatus: change.previousStatus ?? null,
  status: change.status,
  previousSyncState: change.previousSyncState ?? null,
  syncState: change.syncState,
  event,
})

/**
 * Publishes an app-user change that records no event (the worker marking a job SYNCING), after its
 * commit. It has no cursor: it reaches this process's live subscribers only, and is never replayed.
 */
export function publishAppUserChange(pubSub: PubSub, change: AppUserChangeData) {
  pubSub.publish('APP_USER_STATUS_CHANGED', appUserChange(change, null))
}
