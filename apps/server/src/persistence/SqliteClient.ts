// A small `SqlClient` for `effect/sql` over Node's built-in `node:sqlite` (no native addon).
// It owns one connection per database file, WAL mode and a statement cache, and lends the
// connection to the engine's batch write (SqliteDirect) under the same lock; it does not know
// about migrations or any table.
import { DatabaseSync, type StatementSync } from "node:sqlite"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Reactivity from "effect/reactivity/Reactivity"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import * as SqlClient from "effect/sql/SqlClient"
import type * as SqlConnection from "effect/sql/SqlConnection"
import { classifySqliteError, SqlError } from "effect/sql/SqlError"
import * as Statement from "effect/sql/Statement"
import { SqliteDirect, type SqliteSession } from "./SqliteDirect.ts"

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

const makeConnection = (db: DatabaseSync) => {
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
  const connection: SqlConnection.Connection = {
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
  const session: SqliteSession = {
    all: (sql, params) => {
      const statement = prepare(sql)
      statement.setReturnArrays(false)
      return statement.all(...params) as ReadonlyArray<Record<string, unknown>>
    },
    run: (sql, params) => {
      prepare(sql).run(...params)
    }
  }
  return { connection, session }
}

/** What node:sqlite throws for a failed statement (anything else thrown is a bug). */
const isSqliteError = (cause: unknown) =>
  cause instanceof Error && (cause as { readonly code?: unknown }).code === "ERR_SQLITE_ERROR"

/** `f` on the session as an effect: a SQLite error fails, anything else dies. */
const runDirect = <A>(f: () => A): Effect.Effect<A, SqlError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(f())
    } catch (cause) {
      return isSqliteError(cause) ? Effect.fail(toSqlError(cause, "execute")) : Effect.die(cause)
    }
  })

/** Opens the database, switches it to WAL and closes it when the scope ends. */
export const make = Effect.fnUntraced(function* (options: SqliteOptions) {
  const db = yield* Effect.acquireRelease(
    Effect.try({
      try: () => new DatabaseSync(options.filename, { timeout: options.busyTimeoutMs ?? 5_000 }),
      catch: (cause) => toSqlError(cause, "open")
    }),
    (db) => Effect.sync(() => db.isOpen && db.close())
  )
  const { connection, session } = makeConnection(db)
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
  const direct: SqliteDirect["Service"] = {
    transaction: (f) =>
      borrower(() =>
        runDirect(() => {
          db.exec("BEGIN IMMEDIATE")
          try {
            const result = f(session)
            db.exec("COMMIT")
            return result
          } finally {
            if (db.isTransaction) db.exec("ROLLBACK")
          }
        })
      )
  }
  return { client, direct }
})

/** Provides `SqlClient` (and `SqliteDirect`) for one database file. */
export const layer = <E = SqlError>(
  options: SqliteOptions,
  onOpenError?: (error: SqlError) => E
): Layer.Layer<SqlClient.SqlClient | SqliteDirect, E> =>
  Layer.effectContext(
    Effect.map(
      Effect.mapError(make(options), (error) => (onOpenError ? onOpenError(error) : (error as E))),
      ({ client, direct }) =>
        Context.make(SqlClient.SqlClient, client).pipe(Context.add(SqliteDirect, direct))
    )
  ).pipe(Layer.provide(Reactivity.layer))
