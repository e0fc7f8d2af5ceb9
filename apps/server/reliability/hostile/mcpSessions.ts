// An agent that opens MCP sessions in a loop with its one token and never ends them: the server
// must hold no more than its per-token bound (the older sessions answer 404, so a real client would
// initialize again) and its memory must not grow with the number of `initialize` calls.
import { httpRequest } from "../harness/mcp.ts"
import { memoryOf } from "../harness/spindle.ts"

const HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
  "mcp-protocol-version": "2025-06-18"
}

const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "flood", version: "1" } }
})

export interface SessionFlood {
  /** How many initialize calls got each status. */
  readonly statuses: Record<number, number>
  /** Sessions still answering a ping afterwards. */
  readonly held: number
  readonly rssBeforeKiB: number
  readonly rssAfterKiB: number
}

/** `count` initialize calls one after the other with `token`; then which sessions still live. */
export const floodSessions = async (
  url: string,
  token: string,
  pid: number,
  count: number
): Promise<SessionFlood> => {
  const auth = { authorization: `Bearer ${token}` }
  const rssBeforeKiB = memoryOf(pid)?.rssKiB ?? 0
  const statuses: Record<number, number> = {}
  const sessions: Array<string> = []
  for (let i = 0; i < count; i++) {
    const answer = await httpRequest(url, { headers: { ...HEADERS, ...auth }, body: INITIALIZE })
    statuses[answer.status] = (statuses[answer.status] ?? 0) + 1
    const id = answer.headers["mcp-session-id"]
    if (typeof id === "string") sessions.push(id)
  }
  const rssAfterKiB = memoryOf(pid)?.rssKiB ?? 0
  let held = 0
  for (const session of sessions) {
    const answer = await httpRequest(url, {
      headers: { ...HEADERS, ...auth, "mcp-session-id": session },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" })
    })
    if (answer.status === 200) held++
  }
  return { statuses, held, rssBeforeKiB, rssAfterKiB }
}
