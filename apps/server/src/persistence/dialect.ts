// What differs between the two stores' SQL, in one place: SQLite (the embedded default) and
// Postgres (several hosts on one store). Everything else the stores write is portable SQL.
import type * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"

/** The Postgres advisory lock that serializes appends to the event log across hosts. */
export const EVENT_LOG_LOCK = 0x5350_494e

/** The SQL fragments that are not the same on SQLite and Postgres. */
export const dialect = (sql: SqlClient.SqlClient) => {
  const pick = (pg: string, sqlite: string) =>
    sql.onDialectOrElse({ pg: () => sql.literal(pg), orElse: () => sql.literal(sqlite) })
  return {
    /** After a table's columns: SQLite's STRICT typing; Postgres always types its columns. */
    strict: pick("", "STRICT"),
    /** STRICT for a table keyed by its primary key alone (SQLite stores it without a rowid). */
    strictKeyed: pick("", "STRICT, WITHOUT ROWID"),
    /** An integer wide enough for an event sequence (SQLite's INTEGER is 64-bit already). */
    bigint: pick("BIGINT", "INTEGER"),
    /** A column that numbers rows in insertion order, where the table needs one (SQLite has rowid). */
    insertionColumn: pick(", row_order BIGSERIAL", ""),
    /** The insertion order of a table's rows: SQLite's rowid, Postgres's row_order column. */
    insertionOrder: pick("row_order", "rowid"),
    /** The store's clock as an ISO 8601 UTC string with milliseconds (sorts as it reads). */
    nowIso: pick(
      `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
      "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    ),
    /**
     * Takes the log's append lock until the transaction ends. Postgres: the advisory lock the
     * insert trigger takes too, taken first so a writer reads the others' appends before deciding.
     * It must be a statement of its own: a query in the same statement would read the log as it
     * was before the lock was granted (READ COMMITTED takes a snapshot per statement).
     * SQLite: nothing, its BEGIN IMMEDIATE already made this the only writer.
     */
    lockLog: sql.onDialectOrElse({
      pg: () => sql`SELECT pg_advisory_xact_lock(${EVENT_LOG_LOCK})`,
      orElse: () => sql`SELECT 1`
    }),
    /**
     * How many independent statements of one transaction to have in flight at once. Postgres: all
     * of them, pipelined on the transaction's connection (one round trip for several statements,
     * run in the order sent). SQLite: one, it runs in this process and there is no trip to save.
     */
    together: sql.onDialectOrElse({ pg: () => "unbounded" as const, orElse: () => 1 })
  }
}

/**
 * What the database said: node:sqlite's message is the reason's own, Postgres's driver keeps the
 * server's message (`relation "x" does not exist`) in the reason's cause.
 */
export const sqlErrorText = (error: SqlError): string => {
  const cause = (error.reason as { readonly cause?: unknown }).cause
  if (cause instanceof Error && cause.message !== "") return cause.message
  return error.reason.message ?? error.message
}
