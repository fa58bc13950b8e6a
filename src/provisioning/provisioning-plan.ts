import type { AppUserStatus } from '../apps/app-user-rules'
import type { UserProvisioningCapabilities } from '../apps/features'
import type { ScimUser } from './scim-client'
import { changesFrom, type AttributeChange, type ScimSource } from './scim-mapping'

/**
 * The provisioning plan (previewProvisioning): for every app user of an app, what a provisioning run
 * would send downstream, decided from the app user, its user and the downstream's accounts as the
 * job runner would decide it. Pure: the caller reads the app users and feeds the downstream a page at
 * a time; only a small summary of each account it needs is kept, never the pages.
 */

export type PlanActionKind = 'CREATE' | 'LINK' | 'UPDATE' | 'DEACTIVATE' | 'REACTIVATE' | 'NONE'

/** What the plan reads of an app user: its row and the profile the mapping sends. */
export interface PlannedAppUser {
  id: string
  userId: string
  status: AppUserStatus
  externalId: string | null
  user: Omit<ScimSource, 'active'>
}

/** The downstream account an action concerns, as the plan shows it. */
export interface DownstreamAccount {
  id: string
  userName: string
  active: boolean
}

export interface PlanAction {
  action: PlanActionKind
  appUserId: string
  userId: string
  downstream: DownstreamAccount | null
  /** The mapped attributes a run would change on the account (from theirs to ours); empty when none. */
  changes: AttributeChange[]
  reason: string
}

export interface PlanCounts {
  create: number
  link: number
  update: number
  deactivate: number
  reactivate: number
  unchanged: number
  orphaned: number
}

export interface Plan {
  /** One per app user, in the order the app users were given. */
  actions: PlanAction[]
  counts: PlanCounts
}

const enabled = (capability: { status: string }) => capability.status === 'ENABLED'

// The reasons a capability switched off gives, in the words of domain.md 6.2 / the job runner.
const CREATE_OFF = 'Create Users (create.lifecycleCreate) is disabled: the account can be neither created nor linked'
const PROFILE_OFF = 'Update User Attributes (update.profile) is disabled: the differences stay'
const DEACTIVATE_OFF = 'Deactivate Users (update.lifecycleDeactivate) is disabled'

/** The account should be active unless the app user lost the app (as the job runner's profile push sends it). */
const wantsActive = (status: AppUserStatus) => status !== 'DEPROVISIONED' && status !== 'INACTIVE'

/** An account as far as the plan needs it: who it is, and what a run would change on it for `appUser`. */
interface Seen {
  account: DownstreamAccount
  changes: AttributeChange[]
}

const summary = (account: ScimUser): DownstreamAccount => ({
  id: account.id,
  userName: account.userName,
  // RFC 7643: an account without `active` is not known to be inactive.
  active: account.active !== false,
})

/**
 * Builds a plan while the downstream is read page by page: `read` each page, then `plan`. Linked app
 * users are found by the account id they hold; unlinked ones by userName, case-insensitively, like
 * the create path's lookup. Memory: the app users, plus one summary per account an app user matches.
 */
export class ProvisioningPlanner {
  private readonly byExternalId = new Map<string, PlannedAppUser>()
  private readonly unlinkedByUserName = new Map<string, PlannedAppUser>()
  private readonly seen = new Map<string, Seen>()
  private unmatched = 0

  constructor(
    private readonly appUsers: readonly PlannedAppUser[],
    private readonly capabilities: UserProvisioningCapabilities,
  ) {
    for (const appUser of appUsers) {
      if (appUser.externalId) this.byExternalId.set(appUser.externalId, appUser)
      else this.unlinkedByUserName.set(appUser.user.login.toLowerCase(), appUser)
    }
  }

  /** One page of downstream accounts. */
  read(accounts: readonly ScimUser[]): void {
    for (const account of accounts) {
      const appUser = this.byExternalId.get(account.id) ?? this.unlinkedByUserName.get(account.userName.toLowerCase())
      if (!appUser || this.seen.has(appUser.id)) {
        this.unmatched++
        continue
      }
      const changes = changesFrom({ ...appUser.user, active: wantsActive(appUser.status) }, account)
      this.seen.set(appUser.id, { account: summary(account), changes })
    }
  }

  /** The plan, once every page was read. */
  plan(): Plan {
    let unlinkedMatches = 0
    const actions = this.appUsers.map((appUser) => {
      const action = this.decide(appUser, this.seen.get(appUser.id))
      // An account an unlinked app user matches but the plan does not link stays owned by nobody.
      if (!appUser.externalId && action.downstream && action.action !== 'LINK') unlinkedMatches++
      return action
    })
    const count = (kind: PlanActionKind) => actions.filter((action) => action.action === kind).length
    return {
      actions,
      counts: {
        create: count('CREATE'),
        link: count('LINK'),
        update: count('UPDATE'),
        deactivate: count('DEACTIVATE'),
        reactivate: count('REACTIVATE'),
        unchanged: count('NONE'),
        orphaned: this.unmatched + unlinkedMatches,
      },
    }
  }

  private decide(appUser: PlannedAppUser, seen: Seen | undefined): PlanAction {
    const act = (action: PlanActionKind, reason: string, changes = seen?.changes ?? []): PlanAction => ({
      action,
      appUserId: appUser.id,
      userId: appUser.userId,
      downstream: seen?.account ?? null,
      changes,
      reason,
    })
    const { create, update } = this.capabilities
    const deprovisioned = appUser.status === 'DEPROVISIONED'

    if (!appUser.externalId) {
      if (deprovisioned) return act('NONE', 'The app user was never provisioned: there is nothing to deactivate.', [])
      if (!enabled(create.lifecycleCreate)) return act('NONE', `${CREATE_OFF}.`, [])
      if (seen) return act('LINK', `An account with userName ${seen.account.userName} exists downstream: it is linked.`)
      const sent = changesFrom({ ...appUser.user, active: true }, {})
      return act('CREATE', `No account with userName ${appUser.user.login} exists downstream.`, sent)
    }

    if (!seen)
      return act(
        'NONE',
        `The linked account ${appUser.externalId} no longer exists downstream: a run would be refused (404).`,
      )
    if (deprovisioned) {
      if (!seen.account.active) return act('NONE', 'The account is already inactive downstream.', [])
      if (!enabled(update.lifecycleDeactivate)) return act('NONE', `${DEACTIVATE_OFF}: the account stays active.`, [])
      return act('DEACTIVATE', 'The app user was deprovisioned: the account is deactivated.', [])
    }
    if (!seen.account.active && wantsActive(appUser.status) && enabled(update.lifecycleDeactivate))
      return act('REACTIVATE', 'The app user is assigned but its account is inactive downstream: it is reactivated.')
    if (seen.changes.length === 0) return act('NONE', 'The account matches the profile.')
    if (!enabled(update.profile)) return act('NONE', `${PROFILE_OFF}.`)
    return act('UPDATE', 'The account differs from the profile (changed downstream, or not pushed yet).')
  }
}
