import { createPubSub } from '@graphql-yoga/subscription'
import type { UserStatus } from '../users/status-machine'
import type { StoredEvent } from './event-log'

/** A committed user status change, as a hint: subscribers read the user as it is now. */
export interface UserStatusChange {
  userId: string
  previousStatus: UserStatus
  status: UserStatus
  event: StoredEvent
}

/** Each topic name bound to its payload type, so nobody subscribes to what nobody publishes. */
export type Topics = {
  USER_STATUS_CHANGED: [UserStatusChange]
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

/** Publishes committed events (never before commit): every event, and user status changes. */
export function publishCommitted(pubSub: PubSub, events: StoredEvent[]): void {
  for (const event of events) {
    pubSub.publish('LIFECYCLE_EVENT', event)
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
