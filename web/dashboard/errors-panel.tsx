import type { AppSummary } from './operations'

/** App users in syncState ERROR, each with a retry button. */
export function ErrorsPanel(props: { apps: AppSummary[] | null; onRetry(appId: string, userId: string): void }) {
  const failing = (props.apps ?? []).filter((app) => app.errors.totalCount > 0)
  return (
    <section className="panel" aria-labelledby="errors">
      <h2 id="errors">Provisioning errors</h2>
      {failing.length === 0 ? (
        <p className="muted">{props.apps ? 'None.' : 'Loading…'}</p>
      ) : (
        <ul data-testid="provisioning-errors">
          {failing.flatMap((app) =>
            app.errors.edges.map(({ node }) => (
              <li key={node.id} data-app-user={node.id}>
                <strong>{app.label}</strong> · {node.user.profile.login}
                <span className="summary">{node.provisioningError?.summary ?? 'error'}</span>
                <button type="button" onClick={() => props.onRetry(app.id, node.user.id)}>
                  Retry
                </button>
              </li>
            )),
          )}
          {failing.map(
            (app) =>
              app.errors.totalCount > app.errors.edges.length && (
                <li key={`${app.id}-more`} className="muted">
                  {app.label}: {app.errors.totalCount - app.errors.edges.length} more
                </li>
              ),
          )}
        </ul>
      )}
    </section>
  )
}
