// The embedded store's connection without effect/sql's machinery, for the one hot path that needs
// it: the engine's batch write (persistence/sqliteBatch.ts), a few statements run back to back in
// one synchronous step. It takes the same lock as effect/sql's statements and transactions on that
// connection, so it never runs inside another fiber's transaction. Only the SQLite store has it.
import type { SQLInputValue } from "node:sqlite"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type { SqlError } from "effect/sql/SqlError"

/** Statements on the connection, prepared once and cached (the client's own cache). */
export interface SqliteSession {
  readonly all: (sql: string, params: ReadonlyArray<SQLInputValue>) => ReadonlyArray<Record<string, unknown>>
  readonly run: (sql: string, params: ReadonlyArray<SQLInputValue>) => void
}

export class SqliteDirect extends Context.Service<
  SqliteDirect,
  {
    /**
     * Runs `f` on the connection in one synchronous step inside BEGIN IMMEDIATE ... COMMIT,
     * between other fibers' statements and transactions; whatever `f` throws rolls it back. A
     * SQLite error fails as a `SqlError`; anything else thrown is a defect.
     */
    readonly transaction: <A>(f: (session: SqliteSession) => A) => Effect.Effect<A, SqlError>
  }
>()("spindle/persistence/SqliteDirect") {}
