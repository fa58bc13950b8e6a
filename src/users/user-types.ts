import { Field, ID, ObjectType, registerEnumType } from 'type-graphql'
import type { User as UserRow } from '../generated/prisma/client'
import { Node } from '../graphql/node'
import { connectionOf } from '../graphql/connection'
import { DateTime, JSONScalar } from '../graphql/scalars'
import { UserError } from '../graphql/user-error'
import { USER_STATUSES, type UserStatus } from './status-machine'

export const UserStatusEnum = Object.fromEntries(USER_STATUSES.map((status) => [status, status])) as {
  [K in UserStatus]: K
}
registerEnumType(UserStatusEnum, { name: 'UserStatus', description: 'Lifecycle status of a user (Okta semantics).' })

@ObjectType({ simpleResolvers: true })
export class UserProfile {
  @Field(() => String) login: string
  @Field(() => String) email: string
  @Field(() => String, { nullable: true }) firstName: string | null
  @Field(() => String, { nullable: true }) lastName: string | null
  @Field(() => String, { nullable: true }) displayName: string | null
  @Field(() => String, { nullable: true }) department: string | null
  @Field(() => String, { nullable: true }) title: string | null
  @Field(() => String, { nullable: true }) employeeNumber: string | null
  @Field(() => String, { nullable: true }) managerId: string | null
  @Field(() => String, { nullable: true }) mobilePhone: string | null
  @Field(() => JSONScalar, { description: 'Attributes beyond the base profile.' }) custom: Record<string, unknown>
}

@ObjectType({ simpleResolvers: true })
export class UserCredentials {
  @Field(() => Boolean) hasPassword: boolean
}

/** A user; resolvers receive the stored row and derive `profile` and `credentials` from it. */
@ObjectType({ implements: Node, simpleResolvers: true })
export class User extends Node {
  @Field(() => UserStatusEnum) status: UserStatus
  @Field(() => UserStatusEnum, { nullable: true, description: 'Set only while an asynchronous transition runs.' })
  transitioningToStatus: UserStatus | null
  @Field(() => DateTime) created: Date
  @Field(() => DateTime, { nullable: true, description: 'When the status last became ACTIVE.' }) activated: Date | null
  @Field(() => DateTime, { nullable: true }) statusChanged: Date | null
  @Field(() => DateTime, { nullable: true }) lastLogin: Date | null
  @Field(() => DateTime) lastUpdated: Date
  @Field(() => DateTime, { nullable: true }) passwordChanged: Date | null
}

export const UserConnection = connectionOf(User, 'User')

type PayloadExtra = 'activationToken' | 'resetToken' | 'tempPassword'

const EXTRA_DESCRIPTIONS: Record<PayloadExtra, string> = {
  activationToken: 'One-time token for setPassword, present when the user is now PROVISIONED.',
  resetToken: 'One-time token for setPassword, completing the reset.',
  tempPassword: 'The temporary password, when one was requested.',
}

/** `<Name>Payload` for a user mutation: the user, any one-time secret it issued, and userErrors. */
export function userPayload(name: string, extras: PayloadExtra[] = []) {
  @ObjectType(`${name}Payload`, { simpleResolvers: true })
  class Payload {
    @Field(() => User, { nullable: true }) user: UserRow | null
    @Field(() => [UserError]) userErrors: UserError[]
  }
  for (const extra of extras) {
    Field(() => String, { nullable: true, description: EXTRA_DESCRIPTIONS[extra] })(Payload.prototype, extra)
  }
  return Payload
}

export const CreateUserPayload = userPayload('CreateUser', ['activationToken'])
export const UpdateUserPayload = userPayload('UpdateUser')
export const ActivateUserPayload = userPayload('ActivateUser', ['activationToken'])
export const ReactivateUserPayload = userPayload('ReactivateUser', ['activationToken'])
export const DeactivateUserPayload = userPayload('DeactivateUser')
export const SuspendUserPayload = userPayload('SuspendUser')
export const UnsuspendUserPayload = userPayload('UnsuspendUser')
export const UnlockUserPayload = userPayload('UnlockUser')
export const ResetPasswordPayload = userPayload('ResetPassword', ['resetToken'])
export const ExpirePasswordPayload = userPayload('ExpirePassword', ['tempPassword'])
export const SetPasswordPayload = userPayload('SetPassword')
export const ChangePasswordPayload = userPayload('ChangePassword')

@ObjectType({ simpleResolvers: true })
export class DeleteUserPayload {
  @Field(() => ID, { nullable: true, description: 'Set when this call removed the user for good.' }) deletedUserId:
    string | null
  @Field(() => User, { nullable: true, description: 'The user after a first call (now DEPROVISIONED).' })
  user: UserRow | null
  @Field(() => [UserError]) userErrors: UserError[]
}

@ObjectType({ simpleResolvers: true })
export class AuthenticatePayload {
  @Field(() => Boolean) success: boolean
  @Field(() => Boolean, { description: 'The password is expired: the user must change it (changePassword).' })
  passwordChangeRequired: boolean
  @Field(() => User, { nullable: true }) user: UserRow | null
  @Field(() => [UserError]) userErrors: UserError[]
}
