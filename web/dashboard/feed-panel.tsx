import type { FeedEvent } from './operations'
import type { LinkState } from './live-feed'

const time = (iso: string) => new Date(iso).toLocaleTimeString()

/** What the connection is doing, in words (a live region: screen readers hear "Reconnecting"). */
export function LinkStatus({ state }: { state: LinkState }) {
  const text =
    state.kind === 'live'
      ? 'Live'
      : state.kind === 'connecting'
        ? 'Connecting…'
        : state.kind === 'reconnecting'
          ? `Reconnecting… (${state.reason})`
          : `Token refused: ${state.reason}`
  return (
    <p className={`link link-${state.kind}`} role="status" data-testid="link-status" data-state={state.kind}>
      {text}
    </p>
  )
}

/** The lifecycle events, newest first. */
export function FeedPanel({ events, available }: { events: FeedEvent[]; available: boolean }) {
  return (
    <section className="panel feed" aria-labelledby="feed">
      <h2 id="feed">Lifecycle events</h2>
      {!available ? (
        <p className="muted">Not available: this server has no lifecycleEvents subscription.</p>
      ) : events.length === 0 ? (
        <p className="muted">No events yet.</p>
      ) : (
        <ol data-testid="feed">
          {[...events].reverse().map((event) => (
            <li key={event.id} data-sequence={event.sequence} data-type={event.type} data-target={event.target?.id}>
              <time dateTime={event.published}>{time(event.published)}</time>
              <code>{event.type}</code>
              <span className="target">{event.target?.displayName ?? '—'}</span>
              <span className="actor">by {event.actor.displayName}</span>
              {event.outcome.result !== 'SUCCESS' && <span className="outcome">{event.outcome.result}</span>}
            </li>
          ))}
        </ol>
      )}
    </section>
  )
}
