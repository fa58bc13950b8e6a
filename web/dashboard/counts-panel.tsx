import type { AppSummary, Counts } from './operations'

const total = (counts: Counts) => Object.values(counts).reduce((sum, count) => sum + count, 0)

/** Users per status: one tile per status. */
export function UserCountsPanel({ counts }: { counts: Counts | null }) {
  return (
    <section className="panel" aria-labelledby="user-counts">
      <h2 id="user-counts">Users per status</h2>
      {counts ? (
        <dl className="tiles" data-testid="user-counts">
          {Object.entries(counts).map(([status, count]) => (
            <div key={status} className="tile" data-status={status}>
              <dt>{status}</dt>
              <dd>{count}</dd>
            </div>
          ))}
          <div className="tile total">
            <dt>TOTAL</dt>
            <dd>{total(counts)}</dd>
          </div>
        </dl>
      ) : (
        <p className="muted">Loading…</p>
      )}
    </section>
  )
}

/** App users per sync state: a row per app and a row of totals. */
export function SyncStatePanel(props: { syncStates: string[]; apps: AppSummary[] | null; totalApps: number }) {
  const { syncStates, apps, totalApps } = props
  if (!apps)
    return (
      <section className="panel" aria-labelledby="sync-states">
        <h2 id="sync-states">App users per sync state</h2>
        <p className="muted">Loading…</p>
      </section>
    )
  const totals = Object.fromEntries(
    syncStates.map((state) => [state, apps.reduce((sum, app) => sum + app.counts[state], 0)]),
  )
  return (
    <section className="panel" aria-labelledby="sync-states">
      <h2 id="sync-states">App users per sync state</h2>
      <table data-testid="sync-states">
        <thead>
          <tr>
            <th scope="col">App</th>
            {syncStates.map((state) => (
              <th key={state} scope="col">
                {state}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {apps.map((app) => (
            <tr key={app.id}>
              <th scope="row">{app.label}</th>
              {syncStates.map((state) => (
                <td key={state} data-sync-state={state}>
                  {app.counts[state]}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">All{apps.length < totalApps ? ` (first ${apps.length} of ${totalApps} apps)` : ''}</th>
            {syncStates.map((state) => (
              <td key={state} data-sync-state={state}>
                {totals[state]}
              </td>
            ))}
          </tr>
        </tfoot>
      </table>
    </section>
  )
}
