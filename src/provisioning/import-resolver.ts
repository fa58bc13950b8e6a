import { Arg, Ctx, Authorized, Mutation, Resolver } from 'type-graphql'
import type { Context } from '../graphql/context'
import { toUserErrors } from '../graphql/user-error'
import { ImportAppUsersInput, ImportAppUsersPayload } from './import-types'

@Resolver()
export class ImportResolver {
  @Authorized('apps:manage')
  @Mutation(() => ImportAppUsersPayload, {
    description:
      "Imports the app's downstream accounts (INBOUND_PROVISIONING): matched per importRules.userCreateAndMatch, linked or created, one committed page at a time. With dryRun, reports what would happen and writes nothing.",
  })
  async importAppUsers(
    @Arg('input', () => ImportAppUsersInput) input: ImportAppUsersInput,
    @Ctx() { services, actor }: Context,
  ) {
    const result = await services.imports.importAppUsers(input.appId, input.dryRun, actor)
    if (!result.ok)
      return {
        app: null,
        dryRun: input.dryRun,
        created: 0,
        matched: 0,
        unmatched: 0,
        ambiguous: 0,
        unchanged: 0,
        errors: 0,
        results: [],
        resultsTruncated: false,
        userErrors: toUserErrors(result.errors),
      }
    const { app, dryRun, counts, results, failure } = result.value
    const total = Object.values(counts).reduce((sum, count) => sum + count, 0)
    return {
      app,
      dryRun,
      ...counts,
      results: results.map(({ account, ...decision }) => ({ ...decision, downstream: account })),
      resultsTruncated: total > results.length,
      userErrors: failure ? toUserErrors([failure]) : [],
    }
  }
}
