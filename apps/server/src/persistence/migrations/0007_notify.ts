// Webhook notifications: each project's secret, kept beside the event log and never in it; the
// outbox of deliveries not yet settled, so a restart sends what was pending (and nothing twice);
// and how far the notifier has read the log.
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"
import { dialect } from "../dialect.ts"

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const d = dialect(sql)
  yield* sql`
    CREATE TABLE notify_secrets (
      project_id TEXT PRIMARY KEY,
      secret TEXT NOT NULL,
      set_at TEXT NOT NULL
    ) ${d.strictKeyed}`
  yield* sql`
    CREATE TABLE notify_outbox (
      event_sequence ${d.bigint} PRIMARY KEY,
      delivery_id TEXT NOT NULL UNIQUE,
      project_id TEXT NOT NULL,
      thread_id TEXT NOT NULL,
      event TEXT NOT NULL,
      body TEXT NOT NULL,
      attempts INTEGER NOT NULL,
      last_status INTEGER,
      last_error TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    ) ${d.strict}`
  yield* sql`
    CREATE TABLE notify_cursor (
      name TEXT PRIMARY KEY,
      sequence ${d.bigint} NOT NULL
    ) ${d.strictKeyed}`
})
