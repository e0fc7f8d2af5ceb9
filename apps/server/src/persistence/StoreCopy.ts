// `spindle store copy`: moves a home's state from its embedded SQLite file to a Postgres store,
// row for row, in one target transaction. Everything the server keeps in the database goes:
// the event log (same sequences), command receipts, projections, the bootstrap and removal
// journals, client and provider tokens (their hashes, as stored, in issue order), webhook secrets,
// the outbox and its cursor. The target must be empty; the source is held (the home's lock, so no
// server writes it meanwhile) and only brought up to the current schema, as `serve` would.
import { existsSync } from "node:fs"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import { databasePath } from "../config/ServerConfig.ts"
import { describeStore, type Store } from "../config/Store.ts"
import * as Database from "./Database.ts"
import { sqlErrorText } from "./dialect.ts"
import { holdHomeLock } from "./HomeLock.ts"

export class StoreCopyError extends Schema.TaggedError<StoreCopyError>()("StoreCopyError", {
  reason: Schema.Literals(["not-found", "in-use", "not-empty", "unavailable", "gap"]),
  message: Schema.String
}) {}

/** Every table, parents first, each in the order its rows were written. */
const TABLES: ReadonlyArray<{ readonly table: string; readonly order: string }> = [
  { table: "events", order: "sequence" },
  { table: "command_receipts", order: "recorded_at, command_id" },
  { table: "projection_projects", order: "id" },
  { table: "projection_threads", order: "id" },
  { table: "projection_state", order: "name" },
  { table: "bootstrap_operations", order: "updated_at, command_id" },
  { table: "worktree_removals", order: "updated_at, command_id" },
  { table: "client_tokens", order: "rowid" },
  { table: "provider_tokens", order: "rowid" },
  { table: "notify_secrets", order: "project_id" },
  { table: "notify_outbox", order: "event_sequence" },
  { table: "notify_cursor", order: "name" }
]

/** Tables whose rows say the target already holds a Spindle's state. */
const MUST_BE_EMPTY = ["events", "client_tokens", "provider_tokens", "bootstrap_operations"]

const BATCH = 500

export interface CopiedTable {
  readonly table: string
  readonly rows: number
}

/** A store opened and brought up to the current schema, for the enclosing scope. */
const openMigrated = (store: Store | string) =>
  Layer.build(Database.layerClient(store)).pipe(
    Effect.map((context) => Context.get(context, SqlClient.SqlClient)),
    Effect.mapError((error) => new StoreCopyError({ reason: "unavailable", message: error.message }))
  )

/** Copies `<home>`'s SQLite state into the empty store `to`; answers the rows copied per table. */
export const copyStore = (home: string, to: Store) =>
  Effect.scoped(
    Effect.gen(function* () {
      const file = databasePath({ home })
      if (!existsSync(file)) {
        return yield* new StoreCopyError({
          reason: "not-found",
          message: `${home} has no Spindle database (${file}). Give the home a server has run in: --from <home>.`
        })
      }
      yield* holdHomeLock(home).pipe(
        Effect.mapError(
          (error) =>
            new StoreCopyError({
              reason: "in-use",
              message: `${error.message} Stop that server first ('spindle stop --home ${home}'), then copy.`
            })
        )
      )
      const source = yield* openMigrated(file)
      const target = yield* openMigrated(to)
      const copy = Effect.gen(function* () {
        for (const table of MUST_BE_EMPTY) {
          const [row] = yield* target<{ readonly n: number }>`SELECT COUNT(*) AS n FROM ${target(table)}`
          if ((row?.n ?? 0) > 0) {
            return yield* new StoreCopyError({
              reason: "not-empty",
              message: `${describeStore(to)} already holds a Spindle's state (${row?.n} rows in ${table}); nothing was copied. Copy into a new, empty database (createdb).`
            })
          }
        }
        const copied: Array<CopiedTable> = []
        for (const { table, order } of TABLES) {
          let rows = 0
          for (let offset = 0; ; offset += BATCH) {
            const page = yield* source.unsafe<Record<string, unknown>>(
              `SELECT * FROM ${table} ORDER BY ${order} LIMIT ${BATCH} OFFSET ${offset}`
            )
            if (page.length === 0) break
            const inserted = yield* target<{ readonly sequence?: number }>`
              INSERT INTO ${target(table)} ${target.insert(page as unknown as [Record<string, unknown>])}
              ${table === "events" ? target`RETURNING sequence` : target``}`
            if (table === "events") {
              // The target numbers events itself (MAX + 1): a source with a hole would shift them.
              const shifted = inserted.findIndex((row, i) => row.sequence !== page[i]?.sequence)
              if (shifted >= 0) {
                return yield* new StoreCopyError({
                  reason: "gap",
                  message: `The source log skips a sequence before ${String(page[shifted]?.sequence)}; nothing was copied. Report this: the log should have no gaps.`
                })
              }
            }
            rows += page.length
          }
          copied.push({ table, rows })
        }
        return copied
      })
      return yield* target.withTransaction(copy).pipe(
        Effect.catchTag("SqlError", (error) =>
          Effect.fail(
            new StoreCopyError({
              reason: "unavailable",
              message: `Copying into ${describeStore(to)} failed (${sqlErrorText(error)}); the transaction was rolled back and the target is as it was.`
            })
          )
        )
      )
    })
  )
