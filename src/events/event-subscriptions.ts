import { Arg, Authorized, Ctx, Field, ID, InputType, Resolver, Root, Subscription } from 'type-graphql'
import { ArrayMaxSize, IsOptional } from 'class-validator'
import type { Context } from '../graphql/context'
import { renewLoaders } from '../graphql/loaders'
import type { EventTarget, StoredEvent } from './event-log'
import { delivered, type StreamItem } from './event-stream'
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

  @Field(() => String, {
    nullable: true,
    description: 'Resume cursor: first every stored event after it, then live ones, without gap or repeat.',
  })
  after?: string | null
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
    subscribe: ({ args, context }) => {
      const filter = args.filter as LifecycleEventsFilter | null
      return (context as Context).streams.open({
        topic: 'LIFECYCLE_EVENT',
        matches: (event) => matchesEventFilter(event, filter),
        after: filter?.after,
      })
    },
    description:
      'Every lifecycle event after it commits (any process), filtered server-side; resumable with filter.after.',
  })
  lifecycleEvents(
    @Root() event: StreamItem<'LIFECYCLE_EVENT'>,
    @Arg('filter', () => LifecycleEventsFilter, { nullable: true }) _filter: LifecycleEventsFilter | null,
    @Ctx() context: Context,
  ): StoredEvent {
    renewLoaders(context)
    return delivered(event)
  }
}
