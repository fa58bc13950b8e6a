import { Arg, Authorized, Ctx, Field, ID, InputType, Resolver, Root, Subscription } from 'type-graphql'
import { ArrayMaxSize, IsOptional } from 'class-validator'
import type { Context } from '../graphql/context'
import { renewLoaders } from '../graphql/loaders'
import type { EventTarget, StoredEvent } from './event-log'
import { LifecycleEvent } from './event-types'

@InputType()
export class LifecycleEventsFilter {
  @Field(() => [String], { nullable: true, description: 'Any of these event types.' })
  @IsOptional()
  @ArrayMaxSize(100)
  types?: string[] | null

  @Field(() => [ID], { nullable: true, description: 'Events that name any of these entities among their targets.' })
  @IsOptional()
  @ArrayMaxSize(100)
  targetIds?: string[] | null
}

/** Whether an event passes the subscriber's filter: any of the types, naming any of the targets. */
export function matchesEventFilter(event: StoredEvent, filter: LifecycleEventsFilter | null | undefined): boolean {
  if (filter?.types?.length && !filter.types.includes(event.type)) return false
  if (filter?.targetIds?.length) {
    const targets = event.targets as unknown as EventTarget[]
    if (!targets.some((target) => filter.targetIds!.includes(target.id))) return false
  }
  return true
}

@Resolver(() => LifecycleEvent)
export class EventSubscriptionResolver {
  @Authorized('events:read')
  @Subscription(() => LifecycleEvent, {
    topics: 'LIFECYCLE_EVENT',
    filter: ({ payload, args }) => matchesEventFilter(payload as StoredEvent, args.filter),
    description: 'Every lifecycle event after it commits, filtered server-side.',
  })
  lifecycleEvents(
    @Root() event: StoredEvent,
    @Arg('filter', () => LifecycleEventsFilter, { nullable: true }) _filter: LifecycleEventsFilter | null,
    @Ctx() context: Context,
  ): StoredEvent {
    renewLoaders(context)
    return event
  }
}
