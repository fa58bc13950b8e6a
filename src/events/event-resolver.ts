import { Args, Arg, Authorized, Ctx, Field, FieldResolver, ID, InputType, Query, Resolver, Root } from 'type-graphql'
import { ArrayMaxSize, IsOptional } from 'class-validator'
import { listing } from '../graphql/query-errors'
import { ConnectionArgs } from '../graphql/connection'
import type { Context } from '../graphql/context'
import { SafeInt } from '../graphql/scalars'
import type { EventTarget as StoredTarget, StoredEvent } from './event-log'
import { eventCursor } from './event-queries'
import { EventActor, EventOutcome, EventTarget, LifecycleEvent, LifecycleEventConnection } from './event-types'

@InputType()
export class EventFilter {
  @Field(() => [String], { nullable: true, description: 'Any of these event types.' })
  @IsOptional()
  @ArrayMaxSize(100)
  types?: string[] | null

  @Field(() => ID, { nullable: true, description: 'Events that name this entity among their targets.' })
  targetId?: string | null

  @Field(() => String, { nullable: true, description: 'Only events after this cursor (resume point).' })
  after?: string | null
}

@Resolver(() => LifecycleEvent)
export class EventResolver {
  @Authorized('events:read')
  @Query(() => LifecycleEventConnection, { description: 'The lifecycle event log, oldest first.' })
  async events(
    @Arg('filter', () => EventFilter, { nullable: true }) filter: EventFilter | null,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Ctx() { services }: Context,
  ) {
    return listing(() => services.events.list(filter, page))
  }

  @FieldResolver(() => SafeInt)
  sequence(@Root() event: StoredEvent): number {
    return Number(event.sequence)
  }

  @FieldResolver(() => String, {
    description: "Resume cursor; the same value as this event's edge cursor in `events`.",
  })
  cursor(@Root() event: StoredEvent): string {
    return eventCursor(event)
  }

  @FieldResolver(() => EventActor)
  actor(@Root() event: StoredEvent): EventActor {
    return { id: event.actorId, type: event.actorType, displayName: event.actorDisplayName }
  }

  @FieldResolver(() => EventTarget, { nullable: true, description: 'The primary target.' })
  target(@Root() event: StoredEvent): EventTarget | null {
    return event.targetId
      ? { id: event.targetId, type: event.targetType ?? 'Unknown', displayName: event.targetDisplayName }
      : null
  }

  @FieldResolver(() => [EventTarget], { description: 'Every target, the primary one first.' })
  targets(@Root() event: StoredEvent): EventTarget[] {
    return event.targets as unknown as StoredTarget[]
  }

  @FieldResolver(() => EventOutcome)
  outcome(@Root() event: StoredEvent): EventOutcome {
    return { result: event.outcomeResult, reason: event.outcomeReason }
  }
}
