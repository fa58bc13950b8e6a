import { UNCONFIRMED_CHOICES, USER_STATUSES, USER_TRANSITIONS, type Outcome, type UserStatus } from './status-machine'

const cellText = (outcome: Outcome | undefined) => {
  if (outcome === undefined) return '—'
  if (typeof outcome === 'object') return `${outcome.withPassword} (password) / ${outcome.withoutPassword}`
  return outcome === 'DELETED' ? '**deleted**' : outcome
}

/** The README's lifecycle section, rendered from the status machine so the two cannot drift. */
export function renderLifecycleMarkdown(): string {
  const header = `| operation \\ from | ${USER_STATUSES.join(' | ')} |`
  const rule = `|${' --- |'.repeat(USER_STATUSES.length + 1)}`
  const rows = Object.entries(USER_TRANSITIONS).map(([operation, cells]) => {
    const row = USER_STATUSES.map((status) => cellText((cells as Partial<Record<UserStatus, Outcome>>)[status]))
    return `| \`${operation}\` | ${row.join(' | ')} |`
  })
  const choices = UNCONFIRMED_CHOICES.map((choice) => `- ${choice}`)
  return [
    header,
    rule,
    ...rows,
    '',
    '"—" is refused with `INVALID_TRANSITION` (the message names the status and the operation); the user is left unchanged.',
    '',
    "Where Okta's documentation leaves a cell unconfirmed (domain.md 1.5), we chose:",
    '',
    ...choices,
  ].join('\n')
}
