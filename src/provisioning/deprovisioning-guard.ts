/**
 * The blast-radius guard on deprovisioning (api.md "Guard defaults"), as a pure rule: how many of
 * a batch of new downstream deactivations for one app may be sent, and how many are held for an
 * administrator. A mistaken group deletion or rule edit then deactivates at most the threshold.
 */
export interface GuardSettings {
  /** Deactivations allowed in the window; null: no count limit. */
  maxCount: number | null
  /** Percentage of the provisioned app users allowed in the window; null: no percentage limit. */
  maxPercent: number | null
  windowMinutes: number
}

export const GUARD_DEFAULTS: GuardSettings = { maxCount: 500, maxPercent: 20, windowMinutes: 60 }

/** The percentage applies only to apps this large (as Okta's import safeguard): a small app is held past the count. */
export const PERCENT_APPLIES_FROM = 100

export interface GuardInput {
  settings: GuardSettings
  /** The app's provisioned app users before this batch (PROVISIONED or ACTIVE with a downstream account). */
  provisioned: number
  /** Deactivations of the app already queued or sent within the window (held ones excluded). */
  inWindow: number
  /** Deactivations this batch would queue. */
  incoming: number
}

export interface GuardDecision {
  pass: number
  held: number
}

/** How many deactivations the window allows in all; Infinity when the guard does not limit this app. */
export function allowedInWindow(settings: GuardSettings, provisioned: number): number {
  const byCount = settings.maxCount ?? Infinity
  const byPercent =
    settings.maxPercent !== null && provisioned >= PERCENT_APPLIES_FROM
      ? Math.floor((provisioned * settings.maxPercent) / 100)
      : Infinity
  return Math.min(byCount, byPercent)
}

/** The first deactivations fill what is left of the window's allowance; the rest are held. */
export function decideDeactivations({ settings, provisioned, inWindow, incoming }: GuardInput): GuardDecision {
  const room = Math.max(0, allowedInWindow(settings, provisioned) - inWindow)
  const pass = Math.min(incoming, room)
  return { pass, held: incoming - pass }
}
