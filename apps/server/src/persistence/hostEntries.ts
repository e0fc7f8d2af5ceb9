// Journal entries belong to the host that wrote them: a restart recovers only its own (another
// host's worktrees are on another machine). Entries from before hosts were recorded have no host
// and belong to whichever host runs.
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"
import { CurrentHost } from "../config/HostIdentity.ts"

/** This host's id to record on an entry (null with no host set up), and the filter for its own. */
export const hostEntries = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const hostId = (yield* CurrentHost)?.id ?? null
  const ours = hostId === null ? sql`1 = 1` : sql`(host_id IS NULL OR host_id = ${hostId})`
  return { hostId, ours }
})
