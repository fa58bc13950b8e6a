import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { coalesced } from './coalesce'
import { SyncStatePanel, UserCountsPanel } from './counts-panel'
import { ErrorsPanel } from './errors-panel'
import { EventsChart } from './events-chart'
import { eventsPerMinute } from './events-per-minute'
import { FeedPanel, LinkStatus } from './feed-panel'
import { RequestFailed } from './graphql'
import { HoldsPanel, type HoldsView } from './holds-panel'
import { openLiveFeed, type LinkState } from './live-feed'
import {
  appSummaries,
  discardProvisioningHold,
  discover,
  holdsOf,
  latestEvents,
  releaseProvisioningHold,
  retryProvisioning,
  userCounts,
  type AppSummary,
  type Counts,
  type FeedEvent,
} from './operations'

/** Events kept in the feed (and counted by the chart): the newest this many. */
const FEED_SIZE = 200
/** A burst of events refreshes the counts once, this long after its first event. */
const REFRESH_DELAY_MS = 250
const CHART_TICK_MS = 15_000

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))
const isRefusal = (error: unknown) => error instanceof RequestFailed && error.code === 'UNAUTHENTICATED'

export function Dashboard({
  token,
  onRefused,
  onSignOut,
}: {
  token: string
  onRefused(reason: string): void
  onSignOut(): void
}) {
  const [userStatuses, setUserStatuses] = useState<Counts | null>(null)
  const [syncStates, setSyncStates] = useState<string[]>([])
  const [apps, setApps] = useState<{ apps: AppSummary[]; totalApps: number } | null>(null)
  const [holds, setHolds] = useState<HoldsView>({ kind: 'loading' })
  const [events, setEvents] = useState<FeedEvent[]>([])
  const [feedAvailable, setFeedAvailable] = useState(true)
  const [link, setLink] = useState<LinkState>({ kind: 'connecting' })
  const [notice, setNotice] = useState<string | null>(null)
  const [now, setNow] = useState(() => Date.now())
  const refresh = useRef<{ schedule(): void } | null>(null)

  const failed = useCallback(
    (error: unknown) => (isRefusal(error) ? onRefused(messageOf(error)) : setNotice(messageOf(error))),
    [onRefused],
  )

  useEffect(() => {
    let closed = false
    let feed: { close(): void } | null = null
    let refresher: ReturnType<typeof coalesced> | null = null
    const start = async () => {
      const capabilities = await discover(token)
      if (closed) return
      setSyncStates(capabilities.syncStates)
      refresher = coalesced(async () => {
        try {
          const [users, summaries] = await Promise.all([
            userCounts(token, capabilities.userStatuses),
            appSummaries(token, capabilities.syncStates),
          ])
          if (closed) return
          setUserStatuses(users)
          setApps(summaries)
          if (!capabilities.provisioningHolds)
            setHolds({ kind: 'unavailable', reason: 'this server has no held deprovisioning (provisioningHolds).' })
          else
            await holdsOf(token, summaries.apps).then(
              (loaded) => !closed && setHolds({ kind: 'loaded', holds: loaded }),
              (error: unknown) => !closed && setHolds({ kind: 'unavailable', reason: messageOf(error) }),
            )
        } catch (error) {
          if (!closed) failed(error)
        }
      }, REFRESH_DELAY_MS)
      refresh.current = refresher
      refresher.schedule()
      if (!capabilities.lifecycleEvents) return setFeedAvailable(false)
      const latest = await latestEvents(token, FEED_SIZE)
      if (closed) return
      setEvents(latest)
      const last = latest.at(-1)
      feed = openLiveFeed({
        token,
        resumeAfter: last ? { cursor: last.cursor, sequence: last.sequence } : null,
        onEvent: (event) => {
          setEvents((shown) => [...shown.slice(1 - FEED_SIZE), event])
          refresher?.schedule()
        },
        onState: (state) => {
          setLink(state)
          if (state.kind === 'live') refresher?.schedule() // counts may have moved while disconnected
          if (state.kind === 'refused') onRefused(state.reason)
        },
      })
    }
    start().catch((error: unknown) => !closed && failed(error))
    const tick = window.setInterval(() => setNow(Date.now()), CHART_TICK_MS)
    return () => {
      closed = true
      window.clearInterval(tick)
      refresher?.cancel()
      feed?.close()
    }
  }, [token, failed, onRefused])

  /** Runs a provisioning action, reports its outcome, and refreshes the panels. */
  const act = useCallback(
    (label: string, action: () => Promise<string | null>) => {
      action().then((userError) => {
        setNotice(userError ? `${label}: ${userError}` : `${label}: done.`)
        refresh.current?.schedule()
      }, failed)
    },
    [failed],
  )

  const series = useMemo(
    () =>
      eventsPerMinute(
        events.map((event) => event.published),
        now,
      ),
    [events, now],
  )

  return (
    <main className="dashboard">
      <header>
        <h1>Lifecycle Gateway · Live dashboard</h1>
        {feedAvailable && <LinkStatus state={link} />}
        <button type="button" className="sign-out" onClick={onSignOut}>
          Forget token
        </button>
      </header>
      {notice && (
        <p className="notice" role="alert" onClick={() => setNotice(null)}>
          {notice}
        </p>
      )}
      <div className="grid">
        <UserCountsPanel counts={userStatuses} />
        <EventsChart series={series} />
        <SyncStatePanel syncStates={syncStates} apps={apps?.apps ?? null} totalApps={apps?.totalApps ?? 0} />
        <ErrorsPanel
          apps={apps?.apps ?? null}
          onRetry={(appId, userId) => act('Retry', () => retryProvisioning(token, appId, userId))}
        />
        <HoldsPanel
          view={holds}
          onRelease={(appId, ids) => act('Release', () => releaseProvisioningHold(token, appId, ids))}
          onDiscard={(appId, ids) => act('Discard', () => discardProvisioningHold(token, appId, ids))}
        />
        <FeedPanel events={events} available={feedAvailable} />
      </div>
    </main>
  )
}
