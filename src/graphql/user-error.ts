import { Field, ObjectType, registerEnumType } from 'type-graphql'
import { ErrorCodes, type DomainError, type ErrorCode } from '../errors'

/** The GraphQL enum mirrors the catalogue in errors.ts, one description per code. */
export const ErrorCodeEnum = Object.fromEntries(Object.keys(ErrorCodes).map((code) => [code, code])) as {
  [K in ErrorCode]: K
}

registerEnumType(ErrorCodeEnum, {
  name: 'ErrorCode',
  description: 'Stable codes a client may branch on.',
  valuesConfig: Object.fromEntries(
    Object.entries(ErrorCodes).map(([code, description]) => [code, { description }]),
  ) as Record<ErrorCode, { description: string }>,
})

@ObjectType({
  description: 'An expected business failure; the entity it concerns was left unchanged.',
  simpleResolvers: true,
})
export class UserError {
  @Field(() => ErrorCodeEnum)
  code: ErrorCode

  @Field(() => String)
  message: string

  @Field(() => [String], {
    nullable: true,
    description: 'Path of the offending input field, e.g. ["profile", "email"].',
  })
  field?: string[] | null
}

export const toUserErrors = (errors: DomainError[]): UserError[] =>
  errors.map(({ code, message, field }) => ({ code, message, field: field ?? null }))
