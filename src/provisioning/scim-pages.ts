import type { ScimClient, ScimFailure, ScimUser } from './scim-client'

/** Accounts asked for per page: a page of users is far below the 1 MiB answer cap. */
export const DOWNSTREAM_PAGE_SIZE = 200

export type DownstreamPage = { ok: true; users: ScimUser[]; totalResults: number } | ScimFailure

/**
 * Every downstream account, a page at a time (RFC 7644 3.4.2.4, 1-based `startIndex`), so a reader of
 * 10,000 accounts holds one page. Stops at `totalResults`, or at an empty page from a server that
 * over-reports it; ends with the failure when a page cannot be read.
 */
export async function* downstreamPages(
  client: ScimClient,
  pageSize = DOWNSTREAM_PAGE_SIZE,
): AsyncGenerator<DownstreamPage> {
  let startIndex = 1
  for (;;) {
    const page = await client.list(startIndex, pageSize)
    if (!page.ok) {
      yield page
      return
    }
    const users = page.body.Resources
    yield { ok: true, users, totalResults: page.body.totalResults }
    startIndex += users.length
    if (users.length === 0 || startIndex > page.body.totalResults) return
  }
}
