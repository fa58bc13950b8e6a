import DataLoader from 'dataloader'
import {
  decodeCursor,
  encodeCursor,
  PageArgumentError,
  pageRequest,
  toPage,
  type ConnectionArgs,
  type Page,
} from './connection'

/** A child row tagged with the parent it was fetched for. */
export type Tagged<T> = T & { parentId: string }

/** The cursor bounds and direction of a child page (keys strictly between after and before). */
export interface ChildKeyset {
  after?: string
  before?: string
  /** Read from the end: the rows nearest `before` (or the last ones) first. */
  backward: boolean
}

export interface PagedRelation<T> {
  /** Up to `limit` children per parent within the keyset, in its direction (one query for all parents). */
  fetch(parentIds: string[], keyset: ChildKeyset, limit: number): Promise<Tagged<T>[]>
  /** Children per parent (one grouped query). */
  count(parentIds: string[]): Promise<Map<string, number>>
  /** The ordering key of a child, used as its cursor. */
  keyOf(child: T): string
  cursorTag: string
  /** Whether a decoded cursor key can be a key of this list (a forged one is refused, not sent to the database). */
  isKey?(key: string): boolean
}

interface PageKey {
  parentId: string
  args: ConnectionArgs
}

/** The page arguments that shape a query: parents asking alike share one. */
const shapeOf = ({ first, after, last, before }: ConnectionArgs) => [
  first ?? null,
  after ?? null,
  last ?? null,
  before ?? null,
]

/**
 * Batches a paged relation (e.g. User.groups) across every parent in a list: all parents asking
 * for the same page shape are served by one windowed query, and totalCount by one grouped count,
 * so the number of queries does not grow with the page size.
 */
export function pagedRelationLoader<T>(relation: PagedRelation<T>) {
  const counts = new DataLoader<string, number>(async (parentIds) => {
    const byParent = await relation.count([...parentIds])
    return parentIds.map((id) => byParent.get(id) ?? 0)
  })
  return new DataLoader<PageKey, Page<T>, string>(
    async (keys) => {
      const shapes = new Map<string, PageKey[]>()
      for (const key of keys) {
        const shape = JSON.stringify(shapeOf(key.args))
        shapes.set(shape, [...(shapes.get(shape) ?? []), key])
      }
      const pages = new Map<PageKey, Page<T> | Error>()
      for (const group of shapes.values()) {
        let request
        try {
          request = pageRequest(group[0].args, (cursor) => {
            const key = decodeCursor(relation.cursorTag, cursor)
            return key !== undefined && (relation.isKey?.(key) ?? true) ? key : undefined
          })
        } catch (error) {
          if (!(error instanceof PageArgumentError)) throw error
          for (const key of group) pages.set(key, error)
          continue
        }
        const keyset = { after: request.after, before: request.before, backward: request.backward }
        const rows = await relation.fetch(
          group.map((key) => key.parentId),
          keyset,
          request.size + 1,
        )
        for (const key of group) {
          const children = rows.filter((row) => row.parentId === key.parentId)
          pages.set(
            key,
            toPage(
              children,
              request,
              (child) => encodeCursor(relation.cursorTag, relation.keyOf(child)),
              () => counts.load(key.parentId),
            ),
          )
        }
      }
      return keys.map((key) => pages.get(key)!)
    },
    { cacheKeyFn: (key) => JSON.stringify([key.parentId, ...shapeOf(key.args)]) },
  )
}
