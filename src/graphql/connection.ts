import { ArgsType, Field, Int, ObjectType, type ClassType } from 'type-graphql'

export const DEFAULT_PAGE_SIZE = 20
export const MAX_PAGE_SIZE = 200

@ObjectType({ simpleResolvers: true })
export class PageInfo {
  @Field(() => Boolean) hasNextPage: boolean
  @Field(() => Boolean) hasPreviousPage: boolean
  @Field(() => String, { nullable: true }) startCursor: string | null
  @Field(() => String, { nullable: true }) endCursor: string | null
}

@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, {
    nullable: true,
    description: `Page size, default ${DEFAULT_PAGE_SIZE}, capped at ${MAX_PAGE_SIZE}.`,
  })
  first?: number | null

  @Field(() => String, { nullable: true })
  after?: string | null

  @Field(() => Int, { nullable: true, description: `Page size from the end, capped at ${MAX_PAGE_SIZE}.` })
  last?: number | null

  @Field(() => String, { nullable: true })
  before?: string | null
}

/** A count that may be an estimate (a filter by text matching more items than are counted exactly). */
export interface TotalCount {
  count: number
  isEstimate: boolean
}

/** How a list counts its items: exactly (a number) or possibly estimated. */
export type Count = () => Promise<number | TotalCount>

/** A page as services return it; the count is a thunk so it is only counted when selected (once for both fields). */
export interface Page<T> {
  edges: { cursor: string; node: T }[]
  pageInfo: PageInfo
  totalCount: () => Promise<number>
  totalCountIsEstimate: () => Promise<boolean>
}

/** The two count fields of a page, sharing one count. */
function countFields(count: Count): Pick<Page<unknown>, 'totalCount' | 'totalCountIsEstimate'> {
  let counted: Promise<TotalCount> | undefined
  const total = () =>
    (counted ??= count().then((value) => (typeof value === 'number' ? { count: value, isEstimate: false } : value)))
  return {
    totalCount: async () => (await total()).count,
    totalCountIsEstimate: async () => (await total()).isEstimate,
  }
}

/** Declares `<Name>Connection` and `<Name>Edge` for a node type (Relay connections). */
export function connectionOf<T extends object>(node: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class Edge {
    @Field(() => String) cursor: string
    @Field(() => node) node: T
  }

  @ObjectType(`${name}Connection`, { simpleResolvers: true })
  class Connection {
    @Field(() => [Edge]) edges: Edge[]
    @Field(() => PageInfo) pageInfo: PageInfo
    @Field(() => Int, { description: 'Number of items matching the filter, across all pages.' })
    totalCount: number
    @Field(() => Boolean, {
      description:
        'Whether totalCount is an estimate: only when a text filter (`q`, `search`) matches more items than are counted exactly. Counts of unfiltered and status-filtered lists are always exact.',
    })
    totalCountIsEstimate: boolean
  }
  return Connection
}

/** The direction and size of a page request, with the cursor decoded by the caller. */
export interface PageRequest<K> {
  /** Rows read in the page's direction. */
  size: number
  backward: boolean
  after?: K
  before?: K
  /** Given both `first` and `last` (Relay): of the `size` rows read forward, only the last this many are returned. */
  keepLast?: number
}

/**
 * How many items a page with these arguments returns at most (Relay: `first` then `last`),
 * the default page size when neither is given; what the query cost multiplies by.
 */
export function pageSizeOf(args: { first?: unknown; last?: unknown }): number {
  const given = [args.first, args.last].filter((value): value is number => typeof value === 'number')
  const size = given.length ? Math.min(...given) : DEFAULT_PAGE_SIZE
  return Math.max(0, Math.min(size, MAX_PAGE_SIZE))
}

/** A page argument that cannot be honoured; `field` is its path among the field's arguments. */
export class PageArgumentError extends Error {
  readonly field: string[]
  constructor(message: string, field: string | string[]) {
    super(message)
    this.field = typeof field === 'string' ? [field] : field
  }
}

/** Reads Relay arguments; `decode` returns undefined for a cursor this list did not issue. */
export function pageRequest<K>(args: ConnectionArgs, decode: (cursor: string) => K | undefined): PageRequest<K> {
  const backward = args.last != null && args.first == null
  for (const field of ['first', 'last'] as const) {
    if ((args[field] ?? 0) < 0) throw new PageArgumentError(`${field} must not be negative.`, field)
  }
  const cursor = (field: 'after' | 'before') => {
    const value = args[field]
    if (!value) return undefined
    const decoded = decode(value)
    if (decoded === undefined) throw new PageArgumentError('The cursor is not one this list issued.', field)
    return decoded
  }
  const size = Math.min(MAX_PAGE_SIZE, (backward ? args.last : args.first) ?? DEFAULT_PAGE_SIZE)
  return {
    size,
    backward,
    after: cursor('after'),
    before: cursor('before'),
    ...(args.first != null && args.last != null ? { keepLast: Math.min(args.last, size) } : {}),
  }
}

/** Builds a page from rows fetched with one extra row (which only tells whether more exist). */
export function toPage<T>(
  rows: T[],
  request: PageRequest<unknown>,
  cursorOf: (row: T) => string,
  count: Count,
): Page<T> {
  const more = rows.length > request.size
  const read = rows.slice(0, request.size)
  if (request.backward) read.reverse()
  const kept = request.keepLast === undefined ? read : read.slice(read.length - request.keepLast)
  const edges = kept.map((node) => ({ cursor: cursorOf(node), node }))
  return {
    edges,
    pageInfo: {
      hasNextPage: request.backward ? request.before !== undefined : more,
      hasPreviousPage: request.backward ? more : request.after !== undefined || kept.length < read.length,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    ...countFields(count),
  }
}

/** Opaque cursors: base64url of a tagged key, so clients cannot mistake them for ids. */
export const encodeCursor = (tag: string, key: string) => Buffer.from(`${tag}:${key}`).toString('base64url')

export function decodeCursor(tag: string, cursor: string): string | undefined {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8')
  return decoded.startsWith(`${tag}:`) ? decoded.slice(tag.length + 1) : undefined
}

/** The keyset a page reads: ids after/before the cursors, in the page's direction. */
export interface Keyset {
  id: { gt?: string; lt?: string }
  order: 'asc' | 'desc'
  take: number
}

/**
 * A page of an id-ordered list (ids sort by creation). Throws PageArgumentError for bad
 * arguments, which resolvers report as VALIDATION.
 */
export async function idPage<T extends { id: string }>(
  args: ConnectionArgs,
  tag: string,
  fetch: (keyset: Keyset) => Promise<T[]>,
  count: Count,
): Promise<Page<T>> {
  const request = pageRequest(args, (cursor) => decodeCursor(tag, cursor))
  const rows = await fetch({
    id: { ...(request.after ? { gt: request.after } : {}), ...(request.before ? { lt: request.before } : {}) },
    order: request.backward ? 'desc' : 'asc',
    take: request.size + 1,
  })
  return toPage(rows, request, (row) => encodeCursor(tag, row.id), count)
}
