import { Field, ObjectType } from 'type-graphql'
import { connectionOf } from '../graphql/connection'
import { Node } from '../graphql/node'
import { DateTime, JSONScalar, SafeInt } from '../graphql/scalars'

@ObjectType({ simpleResolvers: true })
export class EventActor {
  @Field(() => String, { nullable: true }) id: string | null
  @Field(() => String, { description: 'ApiToken or System.' }) type: string
  @Field(() => String, { nullable: true }) displayName: string | null
}

@ObjectType({ simpleResolvers: true })
export class EventTarget {
  @Field(() => String) id: string
  @Field(() => String, { description: 'User, ApiToken, ...' }) type: string
  @Field(() => String, { nullable: true }) displayName: string | null
}

@ObjectType({ simpleResolvers: true })
export class EventOutcome {
  @Field(() => String, { description: 'SUCCESS or FAILURE.' }) result: string
  @Field(() => String, { nullable: true }) reason: string | null
}

/** A durable lifecycle event; resolvers receive the stored row and shape actor/target/outcome from it. */
@ObjectType({ implements: Node, simpleResolvers: true })
export class LifecycleEvent extends Node {
  @Field(() => SafeInt, { description: 'Position in the log, increasing in commit order.' }) sequence: number
  @Field(() => String, { description: 'Dotted event type, e.g. user.lifecycle.activate.' }) type: string
  @Field(() => DateTime) published: Date
  @Field(() => JSONScalar, { nullable: true, description: 'Details, e.g. previousStatus and status.' }) data: unknown
}

export const LifecycleEventConnection = connectionOf(LifecycleEvent, 'LifecycleEvent')
