import { isEmail } from 'class-validator'
import type { InboundProvisioningCapabilities } from '../apps/features'
import type { ScimUser } from './scim-client'

/**
 * The import's matching rules (domain.md 3.3 and 4.2, INBOUND_PROVISIONING): what each downstream
 * account of a page becomes, decided from the users it may match. Pure; import-service.ts reads the
 * candidates and applies the decisions.
 */
export type MatchRules = InboundProvisioningCapabilities['importRules']['userCreateAndMatch']

/** The downstream account as the rules read it. */
export interface DownstreamAccount {
  id: string
  userName: string
  /** The primary email, else the work one, else the first. */
  email: string | null
  firstName: string | null
  lastName: string | null
}

/** A user an account may match, with the externalId of its live app user of the imported app (if any). */
export interface Candidate {
  id: string
  login: string
  email: string
  firstName: string | null
  lastName: string | null
  status: string
  linkedExternalId: string | null
}

/** CREATE and MATCH link the account; the others change nothing. */
export type ImportAction = 'CREATE' | 'MATCH' | 'UNMATCHED' | 'AMBIGUOUS' | 'UNCHANGED' | 'ERROR'
export type MatchType = 'EXACT' | 'PARTIAL'

export interface Decision {
  account: DownstreamAccount
  action: ImportAction
  matchType: MatchType | null
  /** The matched (or, for UNCHANGED, linked) user; null for CREATE until the user exists. */
  userId: string | null
  reason: string
}

// Okta's profile limits, as createUser checks them (user-inputs.ts).
const LOGIN_MAX = 100
const NAME_MAX = 50

interface ScimEmail {
  value?: unknown
  type?: unknown
  primary?: unknown
}

function emailOf(user: ScimUser): string | null {
  const emails = (Array.isArray(user.emails) ? user.emails : []) as ScimEmail[]
  const chosen =
    emails.find((email) => email.primary === true) ?? emails.find((email) => email.type === 'work') ?? emails[0]
  return typeof chosen?.value === 'string' ? chosen.value : null
}

const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : null)

export function accountOf(user: ScimUser): DownstreamAccount {
  const name = (typeof user.name === 'object' && user.name !== null ? user.name : {}) as Record<string, unknown>
  return {
    id: user.id,
    userName: user.userName,
    email: emailOf(user),
    firstName: text(name.givenName),
    lastName: text(name.familyName),
  }
}

const fold = (value: string | null) => value?.toLowerCase() ?? null
const nameKey = (firstName: string | null, lastName: string | null) =>
  firstName && lastName ? `${firstName.toLowerCase()}\u0000${lastName.toLowerCase()}` : null

/** What the candidate query must look for, per the rules: folded userNames (logins), emails, name pairs. */
export function lookupKeys(accounts: DownstreamAccount[], rules: MatchRules) {
  return {
    logins: [...new Set(accounts.map((account) => account.userName.toLowerCase()))],
    emails:
      rules.exactMatchCriteria === 'EMAIL'
        ? [...new Set(accounts.flatMap((account) => (account.email ? [account.email.toLowerCase()] : [])))]
        : [],
    names: rules.allowPartialMatch
      ? accounts.flatMap((account) =>
          account.firstName && account.lastName
            ? [{ firstName: account.firstName.toLowerCase(), lastName: account.lastName.toLowerCase() }]
            : [],
        )
      : [],
  }
}

/** Why a new user cannot be made from the account, as createUser would refuse it; null when it can. */
function newUserProblem(account: DownstreamAccount): string | null {
  if (account.userName.trim() === '' || account.userName.length > LOGIN_MAX)
    return `userName must be 1 to ${LOGIN_MAX} characters to become a login`
  if (!account.email || account.email.length > LOGIN_MAX || !isEmail(account.email))
    return 'the account has no usable email address'
  if ((account.firstName?.length ?? 0) > NAME_MAX || (account.lastName?.length ?? 0) > NAME_MAX)
    return `first and last name are limited to ${NAME_MAX} characters`
  return null
}

const group = <T>(items: T[], keyOf: (item: T) => string | null) => {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const key = keyOf(item)
    if (key !== null) groups.set(key, [...(groups.get(key) ?? []), item])
  }
  return groups
}

/**
 * Decides every account of a page. `linked` holds the externalIds already linked in the app.
 * A user is claimed by at most one account, and a new login by at most one account, per page
 * (later pages see what earlier ones linked).
 */
export function decidePage(
  accounts: DownstreamAccount[],
  candidates: Candidate[],
  linked: ReadonlySet<string>,
  rules: MatchRules,
): Decision[] {
  const byExact = group(candidates, (user) => fold(rules.exactMatchCriteria === 'EMAIL' ? user.email : user.login))
  const byName = group(candidates, (user) => nameKey(user.firstName, user.lastName))
  const takenLogins = new Set(candidates.map((user) => user.login.toLowerCase()))
  const claimed = new Set<string>()

  return accounts.map((account) => {
    const decision = decide(account)
    if (decision.action === 'CREATE') takenLogins.add(account.userName.toLowerCase())
    if (decision.action === 'MATCH') claimed.add(decision.userId!)
    return decision
  })

  function decide(account: DownstreamAccount): Decision {
    const outcome = (action: ImportAction, reason: string, userId: string | null = null, matchType?: MatchType) => ({
      account,
      action,
      matchType: matchType ?? null,
      userId,
      reason,
    })
    if (linked.has(account.id)) return outcome('UNCHANGED', 'the account is already linked')
    const exactKey = fold(rules.exactMatchCriteria === 'EMAIL' ? account.email : account.userName)
    const exact = exactKey === null ? [] : (byExact.get(exactKey) ?? [])
    if (exact.length > 0) return matched(exact, 'EXACT', rules.autoConfirmExactMatch)
    const nameMatches = rules.allowPartialMatch
      ? (byName.get(nameKey(account.firstName, account.lastName) ?? '') ?? [])
      : []
    if (nameMatches.length > 0) return matched(nameMatches, 'PARTIAL', rules.autoConfirmPartialMatch)
    if (!rules.autoConfirmNewUsers) return outcome('UNMATCHED', 'no user matches; new users are not confirmed')
    if (takenLogins.has(account.userName.toLowerCase()))
      return outcome('ERROR', `a user with login ${account.userName} already exists`)
    const problem = newUserProblem(account)
    return problem ? outcome('ERROR', problem) : outcome('CREATE', 'no user matches; a new user is confirmed')

    function matched(users: Candidate[], matchType: MatchType, confirmed: boolean): Decision {
      const by = matchType === 'EXACT' ? rules.exactMatchCriteria.toLowerCase() : 'first and last name'
      if (users.length > 1) return outcome('AMBIGUOUS', `${users.length} users match by ${by}`, null, matchType)
      const [user] = users
      if (user.status === 'DEPROVISIONED')
        return outcome('ERROR', `the matching user ${user.login} is deactivated`, user.id, matchType)
      if (user.linkedExternalId !== null || claimed.has(user.id))
        return outcome('ERROR', `the matching user ${user.login} is linked to another account`, user.id, matchType)
      if (!confirmed)
        return outcome('UNMATCHED', `matches ${user.login} by ${by}; the match is not confirmed`, user.id, matchType)
      return outcome('MATCH', `matches ${user.login} by ${by}`, user.id, matchType)
    }
  }
}
