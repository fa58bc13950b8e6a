import type { Prisma as PrismaTypes } from '../generated/prisma/client'
import {
  decodeCursor,
  encodeCursor,
  PageArgumentError,
  pageRequest,
  toPage,
  type ConnectionArgs,
  type Page,
} from '../graphql/connection'
import type { Prisma } from '../store/database'
import { bigintKey } from '../store/ids'
import type { StoredEvent } from './event-log'

export interface EventListFilter {
  types?: string[] | null
  targetId?: string | null
  /** Resume cursor: only events committed after it. */
  after?: string | null
}

const CURSOR_TAG = 'event'
/** The cursor of an event: its commit-ordered sequence, opaque to clients. */
export const eventCursor = (event: Pick<StoredEvent, 'sequence'>) => encodeCursor(CURSOR_TAG, event.sequence.toString())

/** The sequence a cursor names, or undefined for one no event could have (another tag, past the bigint column). */
export function decodeEventCursor(cursor: string): bigint | undefined {
  const value = decodeCursor(CURSOR_TAG, cursor)
  return value ? bigintKey(value) : undefined
}

/**
 * The sequences of these cursors that the log issued: each names an event it holds (the log is never
 * pruned), or 0, where a subscriber of an empty log resumes. A well-formed cursor past the log's end
 * was never issued: taken as a resume point it would skip every event until the log reached it.
 */
export async function issuedEventSequences(prisma: Prisma, sequences: bigint[]): Promise<Set<bigint>> {
  const asked = sequences.filter((sequence) => sequence > 0n)
  const held = asked.length
    ? await prisma.lifecycleEvent.findMany({ where: { sequence: { in: asked } }, select: { sequence: true } })
    : []
  return new Set([...(sequences.includes(0n) ? [0n] : []), ...held.map((row) => row.sequence)])
}

/** Read side of the lifecycle event log, oldest first (ascending sequence). */
export class EventQueries {
  constructor(private readonly prisma: Prisma) {}

  /** A page of the log; throws PageArgumentError for a cursor the log did not issue. */
  async list(filter: EventListFilter | null | undefined, args: ConnectionArgs): Promise<Page<StoredEvent>> {
    const request = pageRequest(args, decodeEventCursor)
    let resumeAfter: bigint | undefined
    if (filter?.after) {
      resumeAfter = decodeEventCursor(filter.after)
      if (resumeAfter === undefined)
        throw new PageArgumentError('The cursor is not one this log issued.', ['filter', 'after'])
    }
    const cursors = new Map<string, bigint>()
    if (request.after !== undefined) cursors.set('after', request.after)
    if (request.before !== undefined) cursors.set('before', request.before)
    if (resumeAfter !== undefined) cursors.set('filter.after', resumeAfter)
    const issued = await issuedEventSequences(this.prisma, [...cursors.values()])
    for (const [argument, sequence] of cursors)
      if (!issued.has(sequence))
        throw new PageArgumentError('The cursor is not one this log issued.', argument.split('.'))
    const where: PrismaTypes.LifecycleEventWhereInput = {
      ...(filter?.types?.length ? { type: { in: filter.types } } : {}),
      // Any target, not only the primary one: a provisioning event names the app user, the app and the user.
      ...(filter?.targetId ? { targets: { array_contains: [{ id: filter.targetId }] } } : {}),
    }
    const lowerBounds = [request.after, resumeAfter].filter((bound): bound is bigint => bound !== undefined)
    const lower = lowerBounds.length ? lowerBounds.reduce((a, b) => (a > b ? a : b)) : undefined
    const rows = await this.prisma.lifecycleEvent.findMany({
      where: {
        ...where,
        sequence: { ...(lower !== undefined ? { gt: lower } : {}), ...(request.before ? { lt: request.before } : {}) },
      },
      orderBy: { sequence: request.backward ? 'desc' : 'asc' },
      take: request.size + 1,
    })
    return toPage(rows, request, eventCursor, () =>
      this.prisma.lifecycleEvent.count({
        where: { ...where, ...(resumeAfter ? { sequence: { gt: resumeAfter } } : {}) },
      }),
    )
  }
}
