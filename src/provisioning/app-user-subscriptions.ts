import {
  Arg,
  Authorized,
  Ctx,
  Field,
  FieldResolver,
  ID,
  InputType,
  ObjectType,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql'
import type { AppUserStatus, SyncState } from '../apps/app-user-rules'
import { AppUser, AppUserStatusEnum, SyncStateEnum } from '../apps/app-types'
import { delivered, type StreamItem } from '../events/event-stream'
import { LifecycleEvent } from '../events/event-types'
import type { AppUserStatusChange } from '../events/topics'
import type { Context } from '../graphql/context'
import { renewLoaders } from '../graphql/loaders'

@InputType()
export class AppUserStatusChangedFilter {
  @Field(() => [ID], { nullable: true, description: 'Only app users of these apps.' }) appIds?: string[] | null
  @Field(() => [ID], { nullable: true, description: 'Only app users of these users.' }) userIds?: string[] | null
  @Field(() => [AppUserStatusEnum], { nullable: true, description: 'Only changes into these statuses.' }) statuses?:
    AppUserStatus[] | null
  @Field(() => [SyncStateEnum], { nullable: true, description: 'Only changes into these sync states.' })
  syncStates?: SyncState[] | null
  @Field(() => String, {
    nullable: true,
    description:
      'Resume cursor (an event cursor): first every stored change after it, then live ones (a job starting records no event and is not replayed).',
  })
  after?: string | null
}

@ObjectType('AppUserStatusChange', { simpleResolvers: true })
export class AppUserStatusChangeType {
  @Field(() => AppUserStatusEnum, { nullable: true, description: 'Null for an app user the change created.' })
  previousStatus: AppUserStatus | null
  @Field(() => AppUserStatusEnum) status: AppUserStatus
  @Field(() => SyncStateEnum, { nullable: true, description: 'Null for an app user the change created.' })
  previousSyncState: SyncState | null
  @Field(() => SyncStateEnum) syncState: SyncState
  @Field(() => LifecycleEvent, {
    nullable: true,
    description: 'The stored event that recorded the change; null for one that records none (a job starting).',
  })
  event: unknown
}

export function matchesAppUserFilter(
  change: AppUserStatusChange,
  filter: AppUserStatusChangedFilter | null | undefined,
): boolean {
  if (filter?.appIds?.length && !filter.appIds.includes(change.appId)) return false
  if (filter?.userIds?.length && !filter.userIds.includes(change.userId)) return false
  if (filter?.statuses?.length && !filter.statuses.includes(change.status)) return false
  if (filter?.syncStates?.length && !filter.syncStates.includes(change.syncState)) return false
  return true
}

@Resolver(() => AppUserStatusChangeType)
export class AppUserSubscriptionResolver {
  @Authorized('apps:read')
  @Subscription(() => AppUserStatusChangeType, {
    subscribe: ({ args, context }) => {
      const filter = args.filter as AppUserStatusChangedFilter | null
      return (context as Context).streams.open({
        topic: 'APP_USER_STATUS_CHANGED',
        matches: (change) => matchesAppUserFilter(change, filter),
        after: filter?.after,
      })
    },
    description:
      "App users' status and syncState changes (STAGED -> PROVISIONED, syncs, errors) after they commit, filtered server-side; resumable with filter.after.",
  })
  appUserStatusChanged(
    @Root() change: StreamItem<'APP_USER_STATUS_CHANGED'>,
    @Arg('filter', () => AppUserStatusChangedFilter, { nullable: true }) _filter: AppUserStatusChangedFilter | null,
    @Ctx() context: Context,
  ): AppUserStatusChange {
    renewLoaders(context)
    return delivered(change)
  }

  @FieldResolver(() => AppUser, { nullable: true, description: 'The app user as it is now (null once deleted).' })
  appUser(@Root() change: AppUserStatusChange, @Ctx() { loaders }: Context) {
    return loaders.appUserById.load(change.appUserId)
  }
}
