// The MCP sessions the /mcp endpoint holds, bounded per provider token and in all: a new session
// past a bound takes the place of the least recently used idle one (of the same token first), and
// is refused when every candidate has a request in flight. Each session counts its requests in
// flight, an event stream included until it ends. Closing transports is the endpoint's, not this file's.
import type { Server } from "@modelcontextprotocol/sdk/server/index.js"
import type { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"
import type { McpSessionLimits } from "../config/ServerConfig.ts"

export interface Session {
  readonly transport: WebStandardStreamableHTTPServerTransport
  readonly server: Server
  /** The token that opened the session; no other token may use it. */
  readonly tokenId: string | null
  /** The thread the token acts for: it hears about its children here. */
  readonly threadId: string | null
  /** When its last request started (for the idle timeout). */
  lastUsed: number
  /** Rises with every request the table sees: the least recently used has the lowest. */
  useOrder: number
  /** Requests not answered yet (an open event stream counts until it ends). */
  inFlight: number
}

export type Room =
  | { readonly _tag: "Room"; readonly evicted: ReadonlyArray<Session> }
  | { readonly _tag: "Full"; readonly bound: "token" | "total"; readonly limit: number }

export const makeSessionTable = (limits: McpSessionLimits) => {
  const sessions = new Map<string, Session>()
  let uses = 0

  const oldestIdle = (tokenId: string | null | undefined): [string, Session] | undefined => {
    let oldest: [string, Session] | undefined
    for (const entry of sessions) {
      const session = entry[1]
      if (session.inFlight > 0 || (tokenId !== undefined && session.tokenId !== tokenId)) continue
      if (oldest === undefined || session.useOrder < oldest[1].useOrder) oldest = entry
    }
    return oldest
  }

  const countOf = (tokenId: string | null) => {
    let count = 0
    for (const session of sessions.values()) if (session.tokenId === tokenId) count++
    return count
  }

  /**
   * Frees places until `incoming` more sessions of `tokenId` fit under both bounds, removing the
   * least recently used idle sessions (the evicted ones, for the caller to close); `Full` when
   * only sessions with a request in flight are left to remove, and then nothing is removed.
   */
  const makeRoom = (tokenId: string | null, incoming: number, keep?: string): Room => {
    const evicted: Array<[string, Session]> = []
    const restore = () => {
      for (const [id, session] of evicted) sessions.set(id, session)
    }
    const evictFrom = (scope: string | null | undefined) => {
      const found = oldestIdle(scope)
      if (found === undefined || found[0] === keep) return false
      sessions.delete(found[0])
      evicted.push(found)
      return true
    }
    while (countOf(tokenId) + incoming > limits.perToken) {
      if (!evictFrom(tokenId)) {
        restore()
        return { _tag: "Full", bound: "token", limit: limits.perToken }
      }
    }
    while (sessions.size + incoming > limits.total) {
      if (!evictFrom(undefined)) {
        restore()
        return { _tag: "Full", bound: "total", limit: limits.total }
      }
    }
    return { _tag: "Room", evicted: evicted.map(([, session]) => session) }
  }

  return {
    get: (id: string) => sessions.get(id),
    values: () => sessions.values(),
    entries: () => sessions.entries(),
    delete: (id: string) => sessions.delete(id),
    get size() {
      return sessions.size
    },
    makeRoom,
    /** Marks a request on the session (milliseconds alone would tie for requests close together). */
    touch: (session: Session, now: number) => {
      session.lastUsed = now
      session.useOrder = ++uses
    },
    /**
     * Adds an initialized session. Sessions that raced past the check before it made room are
     * trimmed again here (idle ones only; the new one is kept, its initialize is in flight).
     */
    add: (id: string, session: Session): ReadonlyArray<Session> => {
      sessions.set(id, session)
      const room = makeRoom(session.tokenId, 0, id)
      return room._tag === "Room" ? room.evicted : []
    }
  }
}
export type SessionTable = ReturnType<typeof makeSessionTable>
