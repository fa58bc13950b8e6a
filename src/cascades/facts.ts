import type { Actor } from '../events/event-log'
import type { GroupRule, User } from '../generated/prisma/client'
import type { UserStatus } from '../users/status-machine'

/**
 * What a use case changed, as it records it on the unit of work. Services record facts and never
 * decide what follows; src/cascades/follow.ts turns each fact into the writes that follow, in the
 * same transaction, before the events are appended.
 */
export type Fact =
  /** Users were created (one by createUser, a page of them by an import). */
  | { kind: 'usersCreated'; users: User[]; actor: Actor }
  | { kind: 'statusChanged'; user: User; from: UserStatus; to: UserStatus; actor: Actor }
  | { kind: 'profileChanged'; user: User; actor: Actor }
  /**
   * The user's password was set or changed. The clear password lives only in this fact, in memory,
   * for the one transaction: it is sealed into the jobs that push it and never stored, logged or put in an event.
   */
  | { kind: 'passwordChanged'; userId: string; password: string }
  /** Group memberships of these users changed (added, removed, or a rule's members left). */
  | { kind: 'membershipsChanged'; userIds: string[]; actor: Actor }
  /** Grants changed for these users (a direct assignment) or these apps (group assignments, app status, a deleted group). */
  | { kind: 'grantsChanged'; userIds: string[]; actor: Actor }
  | { kind: 'appGrantsChanged'; appIds: string[]; actor: Actor }
  /** A rule became ACTIVE: it is evaluated over every user. */
  | { kind: 'ruleActivated'; rule: GroupRule; actor: Actor }
