import { Field, ObjectType, type ClassType } from 'type-graphql'
import type { Result } from '../errors'
import { toUserErrors, UserError } from './user-error'
import { validateInput } from './validation'

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
  return result.ok ? { [field]: result.value, userErrors: [] } : { [field]: null, userErrors: toUserErrors(result.errors) }
}

/** Validates a mutation input, then runs the use case; either way a `<field>` payload comes back. */
export async function mutate<T>(field: string, input: object, run: () => Promise<Result<T>>) {
  const problems = await validateInput(input)
  if (problems.length) return { [field]: null, userErrors: toUserErrors(problems) }
  return toPayload(field, await run())
}
