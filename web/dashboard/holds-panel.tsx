import type { AppHolds } from './operations'

export type HoldsView =
  { kind: 'unavailable'; reason: string } | { kind: 'loaded'; holds: AppHolds[] } | { kind: 'loading' }

/** Held deprovisioning per app: release (send) or discard each held deactivation, or all of an app's. */
export function HoldsPanel(props: {
  view: HoldsView
  onRelease(appId: string, appUserIds: string[]): void
  onDiscard(appId: string, appUserIds: string[]): void
}) {
  const { view } = props
  const holding = view.kind === 'loaded' ? view.holds.filter((app) => app.totalCount > 0) : []
  return (
    <section className="panel" aria-labelledby="holds">
      <h2 id="holds">Held deprovisioning</h2>
      {view.kind === 'unavailable' ? (
        <p className="muted" data-testid="holds-unavailable">
          Not available: {view.reason}
        </p>
      ) : view.kind === 'loading' ? (
        <p className="muted">Loading…</p>
      ) : holding.length === 0 ? (
        <p className="muted">Nothing held.</p>
      ) : (
        holding.map((app) => (
          <div key={app.appId} data-testid="holds">
            <h3>
              {app.label}: {app.totalCount} held
              <button
                type="button"
                onClick={() =>
                  props.onRelease(
                    app.appId,
                    app.held.map((held) => held.id),
                  )
                }
              >
                Release shown
              </button>
              <button
                type="button"
                onClick={() =>
                  props.onDiscard(
                    app.appId,
                    app.held.map((held) => held.id),
                  )
                }
              >
                Discard shown
              </button>
            </h3>
            <ul>
              {app.held.map((held) => (
                <li key={held.id} data-app-user={held.id}>
                  {held.user.profile.login}
                  <button type="button" onClick={() => props.onRelease(app.appId, [held.id])}>
                    Release
                  </button>
                  <button type="button" onClick={() => props.onDiscard(app.appId, [held.id])}>
                    Discard
                  </button>
                </li>
              ))}
            </ul>
          </div>
        ))
      )}
    </section>
  )
}
