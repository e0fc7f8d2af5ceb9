// A small `SqlClient` for `effect/sql` over Node's built-in `node:sqlite` (no native addon).
// It owns one connection per database file, WAL mode and a statement cache; it does not know
// about migrations or any table.
import { DatabaseSync, type StatementSync } from "node:sqlite"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import * as SqlClient from "effect/sql/SqlClient"
import type * as SqlConnection from "effect/sql/SqlConnection"
import { classifySqliteError, SqlError } from "effect/sql/SqlError"
import * as Statement from "effect/sql/Statement"

export interface SqliteOptions {
  /** A file path, or ":memory:" for a throwaway database. */
  readonly filename: string
  /** Wait this long for a lock held by another connection before failing. */
  readonly busyTimeoutMs?: number
}

const STATEMENT_CACHE_SIZE = 256

const toSqlError = (cause: unknown, operation: string) =>
  new SqlError({
    reason: classifySqliteError(cause, {
      message: cause instanceof Error ? cause.message : "SQLite failed",
      operation
    })
  })

const makeConnection = (db: DatabaseSync): SqlConnection.Connection => {
  const cache = new Map<string, StatementSync>()
  const prepare = (sql: string): StatementSync => {
    const cached = cache.get(sql)
    if (cached !== undefined) {
      // Refresh recency so the cache evicts the least recently used statement.
      cache.delete(sql)
      cache.set(sql, cached)
      return cached
    }
    const statement = db.prepare(sql)
    cache.set(sql, statement)
    if (cache.size > STATEMENT_CACHE_SIZE) {
      const oldest = cache.keys().next().value
      if (oldest !== undefined) cache.delete(oldest)
    }
    return statement
  }
  const run = (sql: string, params: ReadonlyArray<unknown>, arrays: boolean) =>
    Effect.try({
      try: () => {
        const statement = prepare(sql)
        statement.setReturnArrays(arrays)
        return statement.all(...(params as Array<any>)) as ReadonlyArray<any>
      },
      catch: (cause) => toSqlError(cause, "execute")
    })
  const unprepared = (sql: string, params: ReadonlyArray<unknown>) =>
    params.length === 0
      ? Effect.try({
          try: () => {
            db.exec(sql)
            return [] as ReadonlyArray<any>
          },
          catch: (cause) => toSqlError(cause, "execute")
        })
      : Effect.try({
          try: () => db.prepare(sql).all(...(params as Array<any>)) as ReadonlyArray<any>,
          catch: (cause) => toSqlError(cause, "execute")
        })
  return {
    execute: (sql, params, transformRows) =>
      transformRows ? Effect.map(run(sql, params, false), transformRows) : run(sql, params, false),
    executeRaw: (sql, params) => run(sql, params, false),
    executeValues: (sql, params) => run(sql, params, true),
    executeValuesUnprepared: (sql, params) => run(sql, params, true),
    executeUnprepared: (sql, params, transformRows) =>
      transformRows ? Effect.map(unprepared(sql, params), transformRows) : unprepared(sql, params),
    executeStream: (sql, params, transformRows) =>
      Stream.fromIterableEffect(
        transformRows ? Effect.map(run(sql, params, false), transformRows) : run(sql, params, false)
      )
  }
}

/** Opens the database, switches it to WAL and closes it when the scope ends. */
export const make = Effect.fnUntraced(function* (options: SqliteOptions) {
  const db = yield* Effect.acquireRelease(
    Effect.try({
      try: () => new DatabaseSync(options.filename, { timeout: options.busyTimeoutMs ?? 5_000 }),
      catch: (cause) => toSqlError(cause, "open")
    }),
    (db) => Effect.sync(() => db.isOpen && db.close())
  )
  const connection = makeConnection(db)
  // These also force SQLite to read the header, so a file that is not a database fails here.
  yield* connection.executeUnprepared("PRAGMA journal_mode = WAL", [], undefined)
  yield* connection.executeUnprepared("PRAGMA synchronous = NORMAL", [], undefined)
  yield* connection.executeUnprepared("PRAGMA foreign_keys = ON", [], undefined)

  const { acquirer, borrower, transactionAcquirer, onCommitFailure, isTransaction } =
    SqlClient.makeSqliteAcquirers({
      connection: Effect.succeed(connection),
      semaphore: yield* Semaphore.make(1),
      isTransaction: () => db.isTransaction
    })

  const client = yield* SqlClient.make({
    acquirer,
    borrower,
    transactionAcquirer,
    onCommitFailure,
    isTransaction,
    driver: "node:sqlite",
    compiler: Statement.makeCompilerSqlite(),
    beginTransaction: "BEGIN IMMEDIATE",
    releaseSavepoint: (name) => `RELEASE SAVEPOINT ${name}`,
    spanAttributes: [["db.system.name", "sqlite"]]
  })
  return client
})

/** Provides `SqlClient` for one database file. */
export const layer = <E = SqlError>(
  options: SqliteOptions,
  onOpenError?: (error: SqlError) => E
): Layer.Layer<SqlClient.SqlClient, E> =>
  Layer.effect(
    SqlClient.SqlClient,
    Effect.mapError(make(options), (error) => (onOpenError ? onOpenError(error) : (error as E)))
  ).pipe(Layer.provide(Reactivity.layer))
