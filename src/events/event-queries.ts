import type { Prisma as PrismaTypes } from '../generated/prisma/client'
import { domainError, fail, ok, type Result } from '../errors'
import { decodeCursor, encodeCursor, PageArgumentError, pageRequest, toPage, type ConnectionArgs, type Page } from '../graphql/connection'
import type { Prisma } from '../store/database'
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

function decodeEventCursor(cursor: string): bigint | undefined {
  const value = decodeCursor(CURSOR_TAG, cursor)
  return value && /^\d+$/.test(value) ? BigInt(value) : undefined
}

/** Read side of the lifecycle event log, oldest first (ascending sequence). */
export class EventQueries {
  constructor(private readonly prisma: Prisma) {}

  async list(filter: EventListFilter | null | undefined, args: ConnectionArgs): Promise<Result<Page<StoredEvent>>> {
    let request
    let resumeAfter: bigint | undefined
    try {
      request = pageRequest(args, decodeEventCursor)
    } catch (error) {
      if (!(error instanceof PageArgumentError)) throw error
      return fail(domainError('VALIDATION', error.message, [error.field]))
    }
    if (filter?.after) {
      resumeAfter = decodeEventCursor(filter.after)
      if (resumeAfter === undefined) return fail(domainError('VALIDATION', 'The cursor is not one this log issued.', ['filter', 'after']))
    }
    const where: PrismaTypes.LifecycleEventWhereInput = {
      ...(filter?.types?.length ? { type: { in: filter.types } } : {}),
      ...(filter?.targetId ? { targetId: filter.targetId } : {}),
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
    return ok(
      toPage(rows, request, eventCursor, () =>
        this.prisma.lifecycleEvent.count({ where: { ...where, ...(resumeAfter ? { sequence: { gt: resumeAfter } } : {}) } }),
      ),
    )
  }
}
