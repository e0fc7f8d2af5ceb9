// The hosts that share the store: each server's row, its URL and capacity, and its heartbeat by
// the store's own clock (so hosts on machines whose clocks differ still agree on who is late).
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"
import { dialect } from "../dialect.ts"

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const d = dialect(sql)
  yield* sql`
    CREATE TABLE hosts (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      url TEXT NOT NULL,
      max_running_turns INTEGER,
      version TEXT NOT NULL,
      started_at TEXT NOT NULL,
      heartbeat_at TEXT NOT NULL,
      stopped_at TEXT
    ) ${d.strictKeyed}`
})
