/**
 * The catalogue of event types the log holds (Okta System Log names, domain.md section 7). Clients
 * filter and hook on these names, so a type is added here before any service may record it; an
 * event draft's `type` is an `EventType`, and a type missing here fails the typecheck.
 */
export const EventTypes = {
  'user.lifecycle.create': 'A user was created, STAGED (an activation on create follows as its own event).',
  'user.lifecycle.activate':
    'A STAGED or DEPROVISIONED user was activated (a password set, or an activation token issued).',
  'user.lifecycle.reactivate': 'A PROVISIONED or RECOVERY user was sent a new activation token.',
  'user.lifecycle.deactivate':
    'A user was deactivated (DEPROVISIONED): memberships and direct grants go, app users are revoked.',
  'user.lifecycle.suspend': 'An ACTIVE user was suspended: they cannot sign in until unsuspended.',
  'user.lifecycle.unsuspend': 'A SUSPENDED user was returned to ACTIVE.',
  'user.lifecycle.delete.initiated': 'Deleting a DEPROVISIONED user began.',
  'user.lifecycle.delete.completed': 'A DEPROVISIONED user was deleted for good.',
  'user.account.lock': "Failed sign-ins reached the lockout policy's limit: the user is LOCKED_OUT.",
  'user.account.unlock_by_admin': 'An admin unlocked a user and cleared their failed sign-ins.',
  'user.account.reset_password': 'An admin started a password reset: the user is in RECOVERY with a reset token.',
  'user.account.expire_password': "An admin expired a user's password: they must change it at next sign-in.",
  'user.account.update_profile': "A user's profile changed.",
  'user.account.update_password':
    'A user set a password: by activation token, by reset token, or by changing the current one.',
  'user.session.start': 'A sign-in attempt; the outcome says whether it succeeded and why not.',
  'group.lifecycle.create': 'An OKTA_GROUP group was created.',
  'group.lifecycle.delete': 'A group was deleted: its members lose the apps it granted them.',
  'group.profile.update': "A group's name or description changed.",
  'group.user_membership.add': 'A user joined a group, directly or through a rule (data.ruleId).',
  'group.user_membership.remove': 'A user left a group.',
  'group.user_membership.rule.create': 'A group rule was created (INACTIVE).',
  'group.user_membership.rule.update': "An INACTIVE group rule's name, expression or target groups changed.",
  'group.user_membership.rule.activate': 'A group rule was activated.',
  'group.user_membership.rule.deactivated': 'A group rule was deactivated; the members it added stay.',
  'group.user_membership.rule.evaluation': 'An activated rule was evaluated over every user (data.usersMoved).',
  'group.user_membership.rule.delete':
    'A group rule was deleted; its members left or became direct members (data.removeUsers).',
  'group.user_membership.rule.invalidate': 'A group rule became INVALID because a group it reads or fills was deleted.',
  'group.user_membership.rule.add_exclusion':
    'A rule-managed member was removed by an admin, so the rule no longer adds them.',
  'group.application_assignment.add': 'An app was assigned to a group: its members are granted the app.',
  'group.application_assignment.remove':
    "A group's app assignment was removed: members with no other grant lose the app.",
  'application.lifecycle.create': 'An app was created.',
  'application.lifecycle.update': "An app's settings, provisioning connection or a feature changed.",
  'application.lifecycle.activate': 'An app was activated: grants made while it was INACTIVE become app users.',
  'application.lifecycle.deactivate': 'An app was deactivated: its app users are left as they are.',
  'application.lifecycle.delete': 'An INACTIVE app was deleted, with its assignments and their jobs.',
  'application.user_membership.add':
    'A user was granted an app (an app user created or restored), directly or through a group.',
  'application.user_membership.remove': 'A user lost their last grant of an app: the app user is revoked.',
  'system.api_token.create': 'An API token was minted (data.scopes).',
  'system.api_token.revoke': 'An API token was revoked; it stops working at once.',
  'application.provision.user.push':
    'An account was created (data.operation CREATE) or an existing one linked (LINK) downstream: the app user is PROVISIONED with its externalId.',
  'application.provision.user.push_profile': "The user's profile was pushed to the downstream account (PUT).",
  'application.provision.user.deactivate': 'The downstream account was deactivated (active=false; never deleted).',
  'application.provision.user.reactivate': 'The same downstream account was re-enabled (active=true).',
  'application.provision.user.push_password': "The user's password was pushed to the downstream account.",
  'application.provision.user.retry': "An administrator re-queued an app user's provisioning work.",
  'application.provision.user.dismiss': "An administrator dismissed an app user's provisioning error without retrying.",
  'application.provision.guard.trip':
    'Deactivations queued for an app in its window passed its deprovisioning guard: the excess are held (syncState HELD), not sent (data.held, data.maxCount, data.maxPercent, data.windowMinutes). One event per trip.',
  'application.provision.guard.release':
    "An administrator released an app user's held deactivation: it is sent in order with the app user's other jobs.",
  'application.provision.guard.discard':
    "An administrator discarded an app user's held deactivation: nothing is sent; the downstream account stays as it is.",
  'application.provision.pause': "An administrator paused the app's provisioning: queued work waits.",
  'application.provision.resume': "The app's provisioning was resumed: queued work runs again.",
  'application.integration.authentication_failure':
    'A SCIM request was refused with 401 or 403: the connection token needs attention (data.httpStatus).',
  'application.integration.rate_limit_exceeded':
    "A downstream answered 429: the app's provisioning queue pauses until Retry-After (data.httpStatus).",
  'application.integration.general_failure':
    'A SCIM request failed for good: another 4xx, or 5xx and network errors past the attempt limit (data.httpStatus).',
  'system.import.start':
    'An import of downstream accounts into an app began (importAppUsers; a dry run records nothing).',
  'system.import.progress':
    'An import committed one page of downstream accounts (data.page, data.processed, data.totalResults and the counts so far).',
  'system.import.user.create': 'An imported account had no matching user: a user was created and linked to it.',
  'system.import.user.match':
    'An imported account was linked to the user it matched (data.matchType EXACT or PARTIAL): the app user carries its id.',
  'system.import.complete':
    'An import ended: data.counts; the outcome says whether every page was read (a failure keeps the pages committed before it).',
} as const

export type EventType = keyof typeof EventTypes
