import { domainError, type DomainError } from '../errors'

/** Application features (domain.md 4.2): their capabilities, values and defaults, as data. */
export const FEATURE_NAMES = ['USER_PROVISIONING', 'INBOUND_PROVISIONING'] as const
export type FeatureName = (typeof FEATURE_NAMES)[number]
export type Enablement = 'ENABLED' | 'DISABLED'

export interface UserProvisioningCapabilities {
  create: { lifecycleCreate: { status: Enablement } }
  update: {
    profile: { status: Enablement }
    lifecycleDeactivate: { status: Enablement }
    password: { status: Enablement; seed: 'OKTA' | 'RANDOM'; change: 'KEEP_EXISTING' | 'CHANGE' }
  }
}

export interface ImportSchedule {
  expression: string
  timezone: string
}

export interface InboundProvisioningCapabilities {
  importSettings: {
    username: { usernameFormat: 'EMAIL' | 'CUSTOM'; userNameExpression: string | null }
    schedule: { status: Enablement; fullImport: ImportSchedule | null; incrementalImport: ImportSchedule | null }
  }
  importRules: {
    userCreateAndMatch: {
      exactMatchCriteria: 'EMAIL' | 'USERNAME'
      allowPartialMatch: boolean
      autoConfirmExactMatch: boolean
      autoConfirmPartialMatch: boolean
      autoConfirmNewUsers: boolean
      autoActivateNewUsers: boolean
    }
  }
}

export type Capabilities = Partial<UserProvisioningCapabilities & InboundProvisioningCapabilities>

export interface Feature {
  name: FeatureName
  status: Enablement
  description: string
  capabilities: Capabilities
}

export type StoredFeatures = Partial<Record<FeatureName, { status: Enablement; capabilities: Capabilities }>>

const DEFAULTS: Record<FeatureName, { description: string; status: Enablement; capabilities: Capabilities }> = {
  USER_PROVISIONING: {
    description: 'User provisioning settings from Okta to a downstream app ("To App").',
    status: 'DISABLED',
    capabilities: {
      create: { lifecycleCreate: { status: 'DISABLED' } },
      update: {
        profile: { status: 'DISABLED' },
        lifecycleDeactivate: { status: 'DISABLED' },
        password: { status: 'DISABLED', seed: 'RANDOM', change: 'KEEP_EXISTING' },
      },
    },
  },
  INBOUND_PROVISIONING: {
    description: 'In-bound provisioning settings from an app to Okta ("To Okta"): imports and matching.',
    status: 'DISABLED',
    capabilities: {
      importSettings: {
        username: { usernameFormat: 'EMAIL', userNameExpression: null },
        schedule: { status: 'DISABLED', fullImport: null, incrementalImport: null },
      },
      importRules: {
        userCreateAndMatch: {
          exactMatchCriteria: 'USERNAME',
          allowPartialMatch: false,
          autoConfirmExactMatch: false,
          autoConfirmPartialMatch: false,
          autoConfirmNewUsers: false,
          autoActivateNewUsers: false,
        },
      },
    },
  },
}

/** Which top-level capability parts belong to which feature. */
const PARTS: Record<FeatureName, (keyof Capabilities)[]> = {
  USER_PROVISIONING: ['create', 'update'],
  INBOUND_PROVISIONING: ['importSettings', 'importRules'],
}

type Plain = Record<string, unknown>
const isPlain = (value: unknown): value is Plain => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Merges only the given paths into the current value; `undefined` leaves a path as it is. */
function deepMerge<T>(current: T, patch: unknown): T {
  if (!isPlain(current) || !isPlain(patch)) return (patch === undefined ? current : patch) as T
  const merged: Plain = { ...current }
  for (const [key, value] of Object.entries(patch)) if (value !== undefined) merged[key] = deepMerge(merged[key], value)
  return merged as T
}

/** A feature as stored (or its defaults), complete. */
export function featureOf(stored: StoredFeatures, name: FeatureName): Feature {
  const defaults = DEFAULTS[name]
  const saved = stored[name]
  return {
    name,
    description: defaults.description,
    status: saved?.status ?? defaults.status,
    capabilities: deepMerge(defaults.capabilities, saved?.capabilities),
  }
}

export const allFeatures = (stored: StoredFeatures) => FEATURE_NAMES.map((name) => featureOf(stored, name))

/**
 * Applies a partial update to one feature: only the given capability paths change. A part that
 * belongs to the other feature is a VALIDATION error naming it.
 */
export function updateFeature(
  stored: StoredFeatures,
  name: FeatureName,
  change: { status?: Enablement | null; capabilities?: Capabilities | null },
): { ok: true; features: StoredFeatures; feature: Feature } | { ok: false; error: DomainError } {
  const foreign = Object.entries(change.capabilities ?? {})
    .filter(([part, value]) => value != null && !PARTS[name].includes(part as keyof Capabilities))
    .map(([part]) => part)
  if (foreign.length > 0) {
    return {
      ok: false,
      error: domainError(
        'VALIDATION',
        `${foreign.join(', ')} is not a capability of ${name} (it has ${PARTS[name].join(', ')}).`,
        ['capabilities', foreign[0]],
      ),
    }
  }
  const invalidSchedule = scheduleProblem(change.capabilities)
  if (invalidSchedule) return { ok: false, error: invalidSchedule }
  const current = featureOf(stored, name)
  const next = {
    status: change.status ?? current.status,
    capabilities: deepMerge(current.capabilities, stripNulls(change.capabilities ?? {})),
  }
  const features = { ...stored, [name]: next }
  return { ok: true, features, feature: featureOf(features, name) }
}

// Settings whose value may be null: there, null clears; everywhere else null means "leave as is".
const CLEARABLE = new Set(['userNameExpression', 'fullImport', 'incrementalImport'])

function stripNulls(value: unknown): unknown {
  if (!isPlain(value)) return value
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, inner]) => inner !== null || CLEARABLE.has(key))
      .map(([key, inner]) => [key, stripNulls(inner)]),
  )
}

const CRON = /^\S+(\s+\S+){4}$/

/** Import schedules are a five-field UNIX cron expression and an IANA time zone (domain.md 4.2). */
function scheduleProblem(capabilities: Capabilities | null | undefined): DomainError | undefined {
  const schedule = (capabilities as Partial<InboundProvisioningCapabilities> | null | undefined)?.importSettings
    ?.schedule
  for (const kind of ['fullImport', 'incrementalImport'] as const) {
    const entry = schedule?.[kind]
    if (!entry) continue
    const field = ['capabilities', 'importSettings', 'schedule', kind]
    if (entry.expression != null && !CRON.test(entry.expression.trim())) {
      return domainError('VALIDATION', `${kind}.expression must be a five-field cron expression.`, [
        ...field,
        'expression',
      ])
    }
    if (entry.timezone != null && !isTimeZone(entry.timezone)) {
      return domainError('VALIDATION', `${kind}.timezone must be an IANA time zone name.`, [...field, 'timezone'])
    }
  }
  return undefined
}

function isTimeZone(name: string): boolean {
  if (name.length < 1 || name.length > 64) return false
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name })
    return true
  } catch {
    return false
  }
}

/**
 * What assignment cascades do for an app. An app "has provisioning" when its connection is
 * ENABLED: assignments then start STAGED with a job, and the job (not the assignment) honours
 * create.lifecycleCreate (api.md: create disabled ends in ERROR "user not found downstream").
 */
export function provisioningPolicy(app: { provisioningStatus: Enablement; features: unknown }) {
  const capabilities = featureOf((app.features ?? {}) as StoredFeatures, 'USER_PROVISIONING')
    .capabilities as UserProvisioningCapabilities
  const on = app.provisioningStatus === 'ENABLED'
  return {
    pushes: on,
    deactivates: on && capabilities.update.lifecycleDeactivate.status === 'ENABLED',
    pushesProfile: on && capabilities.update.profile.status === 'ENABLED',
    /** Sync Password with the Okta password, pushed again on each change (domain.md 4.2). */
    pushesPasswordChanges:
      on &&
      capabilities.update.password.status === 'ENABLED' &&
      capabilities.update.password.seed === 'OKTA' &&
      capabilities.update.password.change === 'CHANGE',
  }
}

export type ProvisioningPolicy = ReturnType<typeof provisioningPolicy>
