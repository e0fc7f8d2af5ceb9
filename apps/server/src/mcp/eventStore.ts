// The SSE events of one MCP session, kept so that a client whose event stream broke can resume it
// with Last-Event-ID and miss nothing (MCP's resumability, SEP-1699): with a store the SDK opens
// each POST event stream with a priming event (an id and the retry delay) for clients of protocol
// 2025-11-25 and later. In memory, per session, gone with it, and bounded: past the bounds the
// oldest events go first, and an id no longer held is refused (the SDK answers 400) rather than
// resumed with a gap. Not a store of what a session did: the engine's events are that.
import type { EventStore } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"

/** How long a client whose event stream broke waits before it resumes (the SSE `retry` field). */
export const MCP_SSE_RETRY_MS = 1_000

export interface EventStoreLimits {
  /** Events held per session. */
  readonly events: number
  /** Their JSON text, in UTF-16 code units, per session (one larger event is still held alone). */
  readonly chars: number
}

export const DEFAULT_EVENT_STORE_LIMITS: EventStoreLimits = { events: 256, chars: 512 * 1024 }

interface Stored {
  readonly streamId: string
  readonly message: JSONRPCMessage
  readonly chars: number
}

export const makeEventStore = (limits: EventStoreLimits = DEFAULT_EVENT_STORE_LIMITS): EventStore => {
  // Insertion order is the order events were sent in, and the order they are dropped in.
  const events = new Map<string, Stored>()
  let chars = 0
  let next = 0
  const drop = (id: string, stored: Stored) => {
    events.delete(id)
    chars -= stored.chars
  }
  return {
    storeEvent: async (streamId, message) => {
      const size = JSON.stringify(message).length
      for (const [id, stored] of events) {
        if (events.size < limits.events && chars + size <= limits.chars) break
        drop(id, stored)
      }
      const id = String(++next)
      events.set(id, { streamId, message, chars: size })
      chars += size
      return id
    },
    getStreamIdForEventId: async (eventId) => events.get(eventId)?.streamId,
    replayEventsAfter: async (lastEventId, { send }) => {
      const last = events.get(lastEventId)
      if (last === undefined) throw new Error(`event ${lastEventId} is no longer held`)
      let after = false
      for (const [id, stored] of [...events]) {
        if (id === lastEventId) after = true
        // A priming event (`{}`) only carries an id: it is a cursor, not a message to send again.
        else if (after && stored.streamId === last.streamId && "jsonrpc" in stored.message)
          await send(id, stored.message)
      }
      return last.streamId
    }
  }
}
