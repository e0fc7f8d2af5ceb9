// The append-only event log, command receipts and the persisted projections.
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`
    CREATE TABLE events (
      sequence INTEGER PRIMARY KEY AUTOINCREMENT,
      event_id TEXT NOT NULL,
      type TEXT NOT NULL,
      aggregate_kind TEXT NOT NULL CHECK (aggregate_kind IN ('project', 'thread')),
      aggregate_id TEXT NOT NULL,
      command_id TEXT NOT NULL,
      actor TEXT NOT NULL,
      occurred_at TEXT NOT NULL,
      payload TEXT NOT NULL
    ) STRICT`
  yield* sql`CREATE INDEX events_by_aggregate ON events (aggregate_kind, aggregate_id, sequence)`
  // The log is an audit trail: SQLite itself refuses to change or remove a recorded event.
  yield* sql`
    CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END`
  yield* sql`
    CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'events are append-only'); END`

  yield* sql`
    CREATE TABLE command_receipts (
      command_id TEXT PRIMARY KEY,
      command_type TEXT NOT NULL,
      payload_hash TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
      result_sequence INTEGER,
      error TEXT,
      recorded_at TEXT NOT NULL
    ) STRICT, WITHOUT ROWID`

  yield* sql`
    CREATE TABLE projection_projects (
      id TEXT PRIMARY KEY,
      workspace_root TEXT NOT NULL,
      data TEXT NOT NULL,
      sequence INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID`
  yield* sql`
    CREATE TABLE projection_threads (
      id TEXT PRIMARY KEY,
      project_id TEXT NOT NULL,
      data TEXT NOT NULL,
      sequence INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID`
  yield* sql`CREATE INDEX projection_threads_by_project ON projection_threads (project_id)`
  yield* sql`
    CREATE TABLE projection_state (
      name TEXT PRIMARY KEY,
      last_sequence INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID`
})
