import { GraphQLError, Lexer, Source, TokenKind } from 'graphql'

/** A request body or WebSocket message: larger ones are refused before they are read whole. */
export const MAX_REQUEST_BYTES = 1024 * 1024
/** api.md "Input limits": a document at most 100 KB. Variables get the same bound. */
export const MAX_DOCUMENT_BYTES = 100 * 1024
export const MAX_VARIABLES_BYTES = 100 * 1024
/** Aliases multiply what one document asks for (and what its compiled form keeps in memory). */
export const MAX_ALIASES = 200
/** No input type nests anywhere near this deep; JSON attributes (profile.custom) are flat maps. */
export const MAX_VARIABLES_DEPTH = 32
/** Braces and brackets in a document (selections, object and list literals): past MAX_QUERY_DEPTH, far below what overflows the parser's stack. */
export const MAX_DOCUMENT_NESTING = 64

/** What a GraphQL request carries, whatever the transport (HTTP body, URL query, WebSocket message). */
export interface OperationRequest {
  query?: unknown
  variables?: unknown
}

/**
 * Refuses a request whose document or variables exceed the input limits, before anything parses,
 * caches or labels it. HTTP and WebSocket both call this; undefined when the request is within bounds.
 */
export function checkRequestBounds(request: OperationRequest): GraphQLError | undefined {
  if (typeof request.query === 'string') {
    const bytes = Buffer.byteLength(request.query)
    if (bytes > MAX_DOCUMENT_BYTES)
      return outOfBounds(`The document is ${bytes} bytes; the limit is ${MAX_DOCUMENT_BYTES}.`)
    const shape = documentShape(request.query)
    if (shape.aliases > MAX_ALIASES) return outOfBounds(`The document has more than ${MAX_ALIASES} aliases.`)
    if (shape.nesting > MAX_DOCUMENT_NESTING)
      return outOfBounds(`The document nests deeper than ${MAX_DOCUMENT_NESTING} levels.`)
  }
  // A GET request carries its variables as JSON text in the URL.
  const variables = typeof request.variables === 'string' ? parsedOrText(request.variables) : request.variables
  if (variables != null) {
    if (nestingDepth(variables, MAX_VARIABLES_DEPTH) > MAX_VARIABLES_DEPTH) {
      return outOfBounds(`Variables nest deeper than ${MAX_VARIABLES_DEPTH} levels.`)
    }
    const bytes = Buffer.byteLength(JSON.stringify(variables))
    if (bytes > MAX_VARIABLES_BYTES)
      return outOfBounds(`The variables are ${bytes} bytes; the limit is ${MAX_VARIABLES_BYTES}.`)
  }
  return undefined
}

function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text // Apollo reports JSON that does not parse
  }
}

const outOfBounds = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } })

const OPENING = new Set<TokenKind>([TokenKind.BRACE_L, TokenKind.BRACKET_L])
const CLOSING = new Set<TokenKind>([TokenKind.BRACE_R, TokenKind.BRACKET_R])

/**
 * Aliases and nesting read from tokens, without parsing (the parser recurses per level): `name :`
 * outside parentheses is an alias (inside them it is an argument, a variable definition or an
 * object field). Stops at the first limit passed; a document that does not lex is left to the
 * parser to report.
 */
function documentShape(query: string): { aliases: number; nesting: number } {
  const lexer = new Lexer(new Source(query))
  let parentheses = 0
  let depth = 0
  const shape = { aliases: 0, nesting: 0 }
  let previous: TokenKind | undefined
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (token.kind === TokenKind.PAREN_L) parentheses++
      else if (token.kind === TokenKind.PAREN_R) parentheses = Math.max(0, parentheses - 1)
      else if (OPENING.has(token.kind)) shape.nesting = Math.max(shape.nesting, ++depth)
      else if (CLOSING.has(token.kind)) depth = Math.max(0, depth - 1)
      else if (token.kind === TokenKind.COLON && parentheses === 0 && previous === TokenKind.NAME) shape.aliases++
      if (shape.aliases > MAX_ALIASES || shape.nesting > MAX_DOCUMENT_NESTING) break
      previous = token.kind
    }
  } catch {
    return { aliases: 0, nesting: 0 }
  }
  return shape
}

/** How deep objects and arrays nest in a JSON value, counted iteratively up to `limit + 1`. */
function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0
  const pending: [unknown, number][] = [[value, 1]]
  while (pending.length) {
    const [current, depth] = pending.pop()!
    if (current === null || typeof current !== 'object') continue
    deepest = Math.max(deepest, depth)
    if (depth > limit) return depth
    for (const child of Object.values(current)) pending.push([child, depth + 1])
  }
  return deepest
}
