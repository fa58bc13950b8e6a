import {
  IsEmail,
  IsNotEmpty,
  IsObject,
  IsOptional,
  Matches,
  MaxLength,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator'
import { ArrayMaxSize, IsIn } from 'class-validator'
import { ArgsType, Field, ID, InputType } from 'type-graphql'
import { JSONScalar } from '../graphql/scalars'
import { USER_STATUSES, type UserStatus } from './status-machine'
import { UserStatusEnum } from './user-types'

// Limits follow Okta's profile schema (login and email up to 100, names up to 50 characters).
const LOGIN_MAX = 100
const NAME_MAX = 50
const TEXT_MAX = 255
const PASSWORD_MIN = 8
const PASSWORD_MAX = 128
// api.md's input limits: "a filter `q` at most 255 characters".
const FILTER_Q_MAX = 255

/** Optional profile attributes shared by create and update. */
@InputType({ description: 'Optional profile attributes shared by create and update (never used on its own).' })
abstract class ProfileAttributesInput {
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(NAME_MAX) firstName?: string | null
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(NAME_MAX) lastName?: string | null
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(TEXT_MAX) displayName?: string | null
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(TEXT_MAX) department?: string | null
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(TEXT_MAX) title?: string | null
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(TEXT_MAX) employeeNumber?: string | null
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(TEXT_MAX) managerId?: string | null
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(TEXT_MAX) mobilePhone?: string | null
  @Field(() => JSONScalar, {
    nullable: true,
    description: 'Attributes beyond the base profile (an object); on update they merge and null removes a key.',
  })
  @IsOptional()
  @IsObject({ message: 'custom must be an object of attributes' })
  custom?: Record<string, unknown> | null
}

@InputType()
export class UserProfileInput extends ProfileAttributesInput {
  @Field(() => String) @Matches(/\S/, { message: 'login must not be empty' }) @MaxLength(LOGIN_MAX) login: string
  @Field(() => String) @IsEmail({}, { message: 'email must be an email address' }) @MaxLength(LOGIN_MAX) email: string
}

@InputType({ description: 'A partial profile: omitted attributes keep their value, null clears an optional one.' })
export class UserProfilePatchInput extends ProfileAttributesInput {
  // Present-but-null is validated (and refused): login and email cannot be cleared.
  @Field(() => String, { nullable: true })
  @ValidateIf((_, value) => value !== undefined)
  @Matches(/\S/, { message: 'login must not be empty' })
  @MaxLength(LOGIN_MAX)
  login?: string
  @Field(() => String, { nullable: true })
  @ValidateIf((_, value) => value !== undefined)
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(LOGIN_MAX)
  email?: string
}

@InputType()
export class PasswordCredentialsInput {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @MinLength(PASSWORD_MIN)
  @MaxLength(PASSWORD_MAX)
  password?: string | null
}

@InputType()
export class CreateUserInput {
  @Field(() => UserProfileInput) @ValidateNested() profile: UserProfileInput
  @Field(() => PasswordCredentialsInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  credentials?: PasswordCredentialsInput | null
  @Field(() => Boolean, {
    defaultValue: true,
    description: 'Activate at once: ACTIVE with a password, PROVISIONED without; false gives STAGED.',
  })
  activate: boolean
}

@InputType()
export class UpdateUserInput {
  @Field(() => ID) id: string
  @Field(() => UserProfilePatchInput) @ValidateNested() profile: UserProfilePatchInput
}

/** `<Name>Input { id }` for the lifecycle mutations that need nothing else. */
function userIdInput(name: string) {
  @InputType(`${name}Input`)
  class IdInput {
    @Field(() => ID) id: string
  }
  return IdInput
}

export const ReactivateUserInput = userIdInput('ReactivateUser')
export const DeactivateUserInput = userIdInput('DeactivateUser')
export const SuspendUserInput = userIdInput('SuspendUser')
export const UnsuspendUserInput = userIdInput('UnsuspendUser')
export const UnlockUserInput = userIdInput('UnlockUser')
export const DeleteUserInput = userIdInput('DeleteUser')
export type UserIdInput = InstanceType<typeof DeactivateUserInput>

@InputType()
export class ActivateUserInput {
  @Field(() => ID) id: string
  @Field(() => Boolean, {
    defaultValue: false,
    description: 'No mail is sent by this service; the token is always returned.',
  })
  sendEmail: boolean
}

@InputType()
export class ResetPasswordInput {
  @Field(() => ID) id: string
  @Field(() => Boolean, {
    defaultValue: false,
    description: 'No mail is sent by this service; the token is always returned.',
  })
  sendEmail: boolean
}

@InputType()
export class ExpirePasswordInput {
  @Field(() => ID) id: string
  @Field(() => Boolean, { defaultValue: false, description: 'Also set and return a temporary password.' })
  tempPassword: boolean
}

@InputType()
export class SetPasswordInput {
  @Field(() => String, { description: 'An activation or reset token.' }) @IsNotEmpty() token: string
  @Field(() => String) @MinLength(PASSWORD_MIN) @MaxLength(PASSWORD_MAX) password: string
}

@InputType()
export class ChangePasswordInput {
  @Field(() => String) @IsNotEmpty() login: string
  @Field(() => String) @IsNotEmpty() currentPassword: string
  @Field(() => String) @MinLength(PASSWORD_MIN) @MaxLength(PASSWORD_MAX) newPassword: string
}

@InputType()
export class AuthenticateInput {
  @Field(() => String) @IsNotEmpty() login: string
  @Field(() => String) @IsNotEmpty() password: string
}

@InputType()
export class UserFilter {
  @Field(() => [UserStatusEnum], { nullable: true, description: 'Any of these statuses.' })
  @IsOptional()
  @ArrayMaxSize(USER_STATUSES.length)
  @IsIn(USER_STATUSES, { each: true })
  status?: UserStatus[] | null

  @Field(() => String, {
    nullable: true,
    description: 'SCIM filter, e.g. `profile.department eq "Engineering" and status eq "ACTIVE"`.',
  })
  @IsOptional()
  @MaxLength(1000) // api.md: a SCIM search at most 1,000 characters
  search?: string | null

  @Field(() => String, {
    nullable: true,
    description: 'Prefix of login, email, first or last name (case-insensitive).',
  })
  @IsOptional()
  @MaxLength(FILTER_Q_MAX)
  q?: string | null
}

@ArgsType()
export class UserLookupArgs {
  @Field(() => ID, { nullable: true }) id?: string | null
  @Field(() => String, { nullable: true }) login?: string | null
}
