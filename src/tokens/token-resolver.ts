import { GraphQLError } from 'graphql'
import { ArrayNotEmpty, MaxLength } from 'class-validator'
import { Arg, Authorized, Ctx, Field, ID, InputType, Mutation, ObjectType, Query, Resolver } from 'type-graphql'
import { NotBlank } from '../graphql/validation'
import type { ApiToken as ApiTokenRow } from '../generated/prisma/client'
import type { Context } from '../graphql/context'
import { Node } from '../graphql/node'
import { DateTime } from '../graphql/scalars'
import { UserError, toUserErrors } from '../graphql/user-error'

@ObjectType({
  implements: Node,
  simpleResolvers: true,
  description: 'An API token; its secret is shown only once, at creation.',
})
export class ApiToken extends Node {
  @Field(() => String) name: string
  @Field(() => [String]) scopes: string[]
  @Field(() => DateTime) created: Date
  @Field(() => DateTime, { nullable: true }) revokedAt: Date | null
}

@ObjectType({ simpleResolvers: true, description: 'The caller: the token the request authenticated with.' })
export class Viewer {
  @Field(() => ID) tokenId: string
  @Field(() => String) name: string
  @Field(() => [String]) scopes: string[]
}

@InputType()
export class CreateApiTokenInput {
  @Field(() => String) @NotBlank() @MaxLength(255) name: string
  @Field(() => [String], { description: 'e.g. ["users:read", "users:manage"]' }) @ArrayNotEmpty() scopes: string[]
}

@InputType()
export class RevokeApiTokenInput {
  @Field(() => ID) id: string
}

@ObjectType({ simpleResolvers: true })
export class CreateApiTokenPayload {
  @Field(() => ApiToken, { nullable: true }) apiToken: ApiTokenRow | null
  @Field(() => String, { nullable: true, description: 'The bearer secret. Shown once; only its hash is stored.' })
  token: string | null
  @Field(() => [UserError]) userErrors: UserError[]
}

@ObjectType({ simpleResolvers: true })
export class RevokeApiTokenPayload {
  @Field(() => ApiToken, { nullable: true }) apiToken: ApiTokenRow | null
  @Field(() => [UserError]) userErrors: UserError[]
}

@Resolver()
export class TokenResolver {
  @Authorized()
  @Query(() => Viewer, { description: 'Who is calling: the token and its scopes.' })
  viewer(@Ctx() { principal }: Context): Viewer {
    return { tokenId: principal!.tokenId, name: principal!.name, scopes: [...principal!.scopes] }
  }

  @Authorized('tokens:manage')
  @Query(() => [ApiToken], { description: 'Every API token, newest first (secrets are never shown).' })
  apiTokens(@Ctx() { db }: Context) {
    return db.prisma.apiToken.findMany({ orderBy: { id: 'desc' } })
  }

  @Authorized('tokens:manage')
  @Mutation(() => CreateApiTokenPayload)
  async createApiToken(
    @Arg('input', () => CreateApiTokenInput) input: CreateApiTokenInput,
    @Ctx() { services, actor, principal }: Context,
  ) {
    const result = await services.tokens.create(input.name, input.scopes, actor, { grantor: principal! })
    const forbidden = result.ok ? undefined : result.errors.find((error) => error.code === 'FORBIDDEN')
    // Granting a scope the caller lacks is an authorization failure (api.md: FORBIDDEN), not a business one.
    if (forbidden) throw new GraphQLError(forbidden.message, { extensions: { code: 'FORBIDDEN' } })
    if (!result.ok) return { apiToken: null, token: null, userErrors: toUserErrors(result.errors) }
    return { apiToken: result.value.token, token: result.value.secret, userErrors: [] }
  }

  @Authorized('tokens:manage')
  @Mutation(() => RevokeApiTokenPayload)
  async revokeApiToken(
    @Arg('input', () => RevokeApiTokenInput) input: RevokeApiTokenInput,
    @Ctx() { services, actor }: Context,
  ) {
    const result = await services.tokens.revoke(input.id, actor)
    return result.ok
      ? { apiToken: result.value, userErrors: [] }
      : { apiToken: null, userErrors: toUserErrors(result.errors) }
  }
}
