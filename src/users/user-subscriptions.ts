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
import { delivered, type StreamItem } from '../events/event-stream'
import { LifecycleEvent } from '../events/event-types'
import type { UserStatusChange } from '../events/topics'
import type { Context } from '../graphql/context'
import { renewLoaders } from '../graphql/loaders'
import type { UserStatus } from './status-machine'
import { User, UserStatusEnum } from './user-types'

@InputType()
export class UserStatusChangedFilter {
  @Field(() => [ID], { nullable: true, description: 'Only these users.' }) userIds?: string[] | null
  @Field(() => [UserStatusEnum], { nullable: true, description: 'Only changes into these statuses.' }) statuses?:
    UserStatus[] | null
  @Field(() => String, {
    nullable: true,
    description: 'Resume cursor (an event cursor): first every stored change after it, then live ones.',
  })
  after?: string | null
}

@ObjectType('UserStatusChange', { simpleResolvers: true })
export class UserStatusChangeType {
  @Field(() => UserStatusEnum) previousStatus: UserStatus
  @Field(() => UserStatusEnum) status: UserStatus
  @Field(() => LifecycleEvent, { description: 'The stored event that recorded the change.' }) event: unknown
}

export function matchesStatusFilter(
  change: UserStatusChange,
  filter: UserStatusChangedFilter | null | undefined,
): boolean {
  if (filter?.userIds?.length && !filter.userIds.includes(change.userId)) return false
  if (filter?.statuses?.length && !filter.statuses.includes(change.status)) return false
  return true
}

@Resolver(() => UserStatusChangeType)
export class UserSubscriptionResolver {
  @Authorized('users:read')
  @Subscription(() => UserStatusChangeType, {
    subscribe: ({ args, context }) => {
      const filter = args.filter as UserStatusChangedFilter | null
      return (context as Context).streams.open({
        topic: 'USER_STATUS_CHANGED',
        matches: (change) => matchesStatusFilter(change, filter),
        after: filter?.after,
      })
    },
    description: 'Status changes after they commit (any process), filtered server-side; resumable with filter.after.',
  })
  userStatusChanged(
    @Root() change: StreamItem<'USER_STATUS_CHANGED'>,
    @Arg('filter', () => UserStatusChangedFilter, { nullable: true }) _filter: UserStatusChangedFilter | null,
    @Ctx() context: Context,
  ): UserStatusChange {
    renewLoaders(context)
    return delivered(change)
  }

  @FieldResolver(() => User, { nullable: true, description: 'The user as it is now (null once deleted).' })
  user(@Root() change: UserStatusChange, @Ctx() { loaders }: Context) {
    return loaders.userById.load(change.userId)
  }
}
