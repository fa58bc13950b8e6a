import { Field, ObjectType, type ClassType } from 'type-graphql'
import type { Result } from '../errors'
import { toUserErrors, UserError } from './user-error'

/** Declares `<Name>Payload { <field>: <type>, userErrors }` for a mutation. */
export function entityPayload(name: string, field: string, type: ClassType) {
  @ObjectType(`${name}Payload`, { simpleResolvers: true })
  class Payload {
    @Field(() => [UserError]) userErrors: UserError[]
  }
  Field(() => type, { nullable: true })(Payload.prototype, field)
  return Payload
}

/** A payload from a service result: the value under `field`, or userErrors and a null entity. */
export function toPayload<T>(field: string, result: Result<T>) {
  return result.ok
    ? { [field]: result.value, userErrors: [] }
    : { [field]: null, userErrors: toUserErrors(result.errors) }
}

/** Runs the use case (its input was validated at the edge); a `<field>` payload comes back. */
export async function mutate<T>(field: string, run: () => Promise<Result<T>>) {
  return toPayload(field, await run())
}
