import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql'
import { App } from '../apps/app-types'
import type { App as AppRow } from '../generated/prisma/client'
import { UserError } from '../graphql/user-error'
import { IMPORT_RESULTS_LIMIT } from './import-service'

export const ImportActionEnum = {
  CREATE: 'CREATE',
  MATCH: 'MATCH',
  UNMATCHED: 'UNMATCHED',
  AMBIGUOUS: 'AMBIGUOUS',
  UNCHANGED: 'UNCHANGED',
  ERROR: 'ERROR',
} as const
registerEnumType(ImportActionEnum, {
  name: 'ImportAction',
  description: 'What an import did (or, in a dry run, would do) with one downstream account.',
  valuesConfig: {
    CREATE: { description: 'No user matched: a user is created and linked (autoConfirmNewUsers).' },
    MATCH: { description: 'One user matched and the match is confirmed: it is linked.' },
    UNMATCHED: {
      description: 'Not linked: no user matched and new users are not confirmed, or the match awaits confirmation.',
    },
    AMBIGUOUS: { description: 'Two or more users matched: reported, never guessed.' },
    UNCHANGED: { description: 'An app user of the app is already linked to the account.' },
    ERROR: {
      description:
        'Cannot be linked (see reason): the user is deactivated or linked elsewhere, the login is taken, the profile is invalid.',
    },
  },
})

export const MatchTypeEnum = { EXACT: 'EXACT', PARTIAL: 'PARTIAL' } as const
registerEnumType(MatchTypeEnum, {
  name: 'ImportMatchType',
  description: 'EXACT: by exactMatchCriteria (USERNAME or EMAIL); PARTIAL: by first and last name.',
})

@ObjectType({ simpleResolvers: true, description: 'A downstream account as the import read it.' })
export class ImportedAccount {
  @Field(() => String, { description: 'The downstream id: the externalId of the app user it is linked to.' })
  id: string
  @Field(() => String) userName: string
  @Field(() => String, { nullable: true }) email: string | null
  @Field(() => String, { nullable: true }) firstName: string | null
  @Field(() => String, { nullable: true }) lastName: string | null
}

@ObjectType({ description: 'What happened (or would happen) to one downstream account.' })
export class ImportResult {
  @Field(() => ImportActionEnum) action: string
  @Field(() => MatchTypeEnum, { nullable: true }) matchType: string | null
  @Field(() => ImportedAccount, { description: 'Named `downstream` as in the provisioning plan.' })
  downstream: ImportedAccount
  @Field(() => ID, {
    nullable: true,
    description: 'The matched or created user (null for a user a dry run would create, and where none matched).',
  })
  userId: string | null
  @Field(() => String) reason: string
}

@InputType()
export class ImportAppUsersInput {
  @Field(() => ID) appId: string
  @Field(() => Boolean, {
    defaultValue: false,
    description: 'Decide and report only: nothing is written here or downstream.',
  })
  dryRun: boolean
}

@ObjectType({ simpleResolvers: true })
export class ImportAppUsersPayload {
  @Field(() => App, { nullable: true }) app: AppRow | null
  @Field(() => Boolean) dryRun: boolean
  @Field(() => Int, { description: 'Users created and linked.' }) created: number
  @Field(() => Int, { description: 'Existing users linked (confirmed matches).' }) matched: number
  @Field(() => Int, {
    description: 'Accounts left unlinked: no match without autoConfirmNewUsers, or a match awaiting confirmation.',
  })
  unmatched: number
  @Field(() => Int, { description: 'Accounts two or more users match.' }) ambiguous: number
  @Field(() => Int, { description: 'Accounts already linked (a re-run changes nothing).' }) unchanged: number
  @Field(() => Int, { description: 'Accounts that could not be linked (see results).' }) errors: number
  @Field(() => [ImportResult], {
    description: `The first ${IMPORT_RESULTS_LIMIT} accounts' outcomes, in downstream order; the counts cover every account.`,
  })
  results: ImportResult[]
  @Field(() => Boolean, { description: 'True when there were more outcomes than `results` lists.' })
  resultsTruncated: boolean
  @Field(() => [UserError], {
    description:
      'Refusals (nothing done), or DOWNSTREAM_FAILED: the import stopped at a page it could not read; the pages before it stay committed and counted.',
  })
  userErrors: UserError[]
}
