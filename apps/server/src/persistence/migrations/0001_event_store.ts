// The append-only event log, command receipts and the persisted projections.
import * as Effect from "effect/Effect"
import * as SqlClient from "effect/sql/SqlClient"
import { dialect, EVENT_LOG_LOCK } from "../dialect.ts"

const COLUMNS = `
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  aggregate_kind TEXT NOT NULL CHECK (aggregate_kind IN ('project', 'thread')),
  aggregate_id TEXT NOT NULL,
  command_id TEXT NOT NULL,
  actor TEXT NOT NULL,
  occurred_at TEXT NOT NULL,
  payload TEXT NOT NULL`

const eventsOnSqlite = (sql: SqlClient.SqlClient) =>
  Effect.gen(function* () {
    yield* sql.unsafe(`CREATE TABLE events (sequence INTEGER PRIMARY KEY AUTOINCREMENT,${COLUMNS}) STRICT`)
    yield* sql`CREATE INDEX events_by_aggregate ON events (aggregate_kind, aggregate_id, sequence)`
    // The log is an audit trail: SQLite itself refuses to change or remove a recorded event.
    yield* sql`
      CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
      BEGIN SELECT RAISE(ABORT, 'events are append-only'); END`
    yield* sql`
      CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
      BEGIN SELECT RAISE(ABORT, 'events are append-only'); END`
  })

/**
 * On Postgres several hosts append at once. Each insert takes one transaction-scoped advisory lock
 * and numbers its event MAX + 1, so the sequence has no gap (a rolled-back append numbers nothing)
 * and commits in sequence order: a reader that has seen N has seen everything before N. The other
 * hosts hear of each committed append on `spindle_events` (persistence/LogSignals).
 */

const eventsOnPostgres = (sql: SqlClient.SqlClient) =>
  Effect.gen(function* () {
    yield* sql.unsafe(`CREATE TABLE events (sequence BIGINT PRIMARY KEY,${COLUMNS})`)
    yield* sql`CREATE INDEX events_by_aggregate ON events (aggregate_kind, aggregate_id, sequence)`
    yield* sql.unsafe(`
      CREATE FUNCTION spindle_events_number() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_advisory_xact_lock(${EVENT_LOG_LOCK});
        SELECT COALESCE(MAX(sequence), 0) + 1 INTO NEW.sequence FROM events;
        -- Heard by the other hosts when this transaction commits (one per transaction: same payload).
        PERFORM pg_notify('spindle_events', '');
        RETURN NEW;
      END $$`)
    yield* sql`
      CREATE TRIGGER events_number BEFORE INSERT ON events
      FOR EACH ROW EXECUTE FUNCTION spindle_events_number()`
    // The log is an audit trail: Postgres itself refuses to change or remove a recorded event.
    yield* sql.unsafe(`
      CREATE FUNCTION spindle_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'events are append-only';
      END $$`)
    yield* sql`
      CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
      FOR EACH ROW EXECUTE FUNCTION spindle_events_append_only()`
    yield* sql`
      CREATE TRIGGER events_append_only_truncate BEFORE TRUNCATE ON events
      FOR EACH STATEMENT EXECUTE FUNCTION spindle_events_append_only()`
  })

export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const d = dialect(sql)
  yield* sql.onDialectOrElse({ pg: () => eventsOnPostgres(sql), orElse: () => eventsOnSqlite(sql) })
  yield* sql`
    CREATE TABLE command_receipts (
      command_id TEXT PRIMARY KEY,
      command_type TEXT NOT NULL,
      payload_hash TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
      result_sequence ${d.bigint},
      error TEXT,
      recorded_at TEXT NOT NULL
    ) ${d.strictKeyed}`

  yield* sql`
    CREATE TABLE projection_projects (
      id TEXT PRIMARY KEY,
      workspace_root TEXT NOT NULL,
      data TEXT NOT NULL,
      sequence ${d.bigint} NOT NULL
    ) ${d.strictKeyed}`
  yield* sql`
    CREATE TABLE projection_threads (
      id TEXT PRIMARY KEY,
      project_id TEXT NOT NULL,
      data TEXT NOT NULL,
      sequence ${d.bigint} NOT NULL
    ) ${d.strictKeyed}`
  yield* sql`CREATE INDEX projection_threads_by_project ON projection_threads (project_id)`
  yield* sql`
    CREATE TABLE projection_state (
      name TEXT PRIMARY KEY,
      last_sequence ${d.bigint} NOT NULL
    ) ${d.strictKeyed}`
})
