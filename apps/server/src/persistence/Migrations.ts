// Versioned schema migrations, one numbering for both stores (a migration branches on the dialect
// where SQLite and Postgres differ). Refuses, without touching it, a database that is not one or
// that a newer Spindle has migrated past what this build knows.
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Migrator from "effect/sql/Migrator"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { describeStore, type Store } from "../config/Store.ts"
import { sqlErrorText } from "./dialect.ts"
import eventStore from "./migrations/0001_event_store.ts"
import bootstrapOperations from "./migrations/0002_bootstrap_operations.ts"
import clientTokens from "./migrations/0003_client_tokens.ts"
import providerTokens from "./migrations/0004_provider_tokens.ts"
import turnStatusVocabulary from "./migrations/0005_turn_status_vocabulary.ts"
import orphanedGit from "./migrations/0006_orphaned_git.ts"
import notify from "./migrations/0007_notify.ts"
import hosts from "./migrations/0008_hosts.ts"
import journalHosts from "./migrations/0009_journal_hosts.ts"
import ownerHosts from "./migrations/0010_owner_hosts.ts"

const MIGRATIONS_TABLE = "spindle_migrations"

const migrations = {
  "1_event_store": eventStore,
  "2_bootstrap_operations": bootstrapOperations,
  "3_client_tokens": clientTokens,
  "4_provider_tokens": providerTokens,
  "5_turn_status_vocabulary": turnStatusVocabulary,
  "6_orphaned_git": orphanedGit,
  "7_notify": notify,
  "8_hosts": hosts,
  "9_journal_hosts": journalHosts,
  "10_owner_hosts": ownerHosts
}

export const LATEST_SCHEMA_VERSION = Math.max(
  ...Object.keys(migrations).map((key) => Number.parseInt(key, 10))
)

export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  reason: Schema.Literals(["unreadable", "newer-schema", "migration-failed"]),
  message: Schema.String
}) {}

const run = Migrator.make({})

/** Brings the schema up to date; returns the ids of the migrations it applied. */
export const migrate = (store: Store) =>
  Effect.gen(function* () {
    const databasePath = describeStore(store)
    const sql = yield* SqlClient.SqlClient
    const known = yield* sql<{ readonly version: number | null }>`
      SELECT MAX(migration_id) AS version FROM ${sql(MIGRATIONS_TABLE)}
    `.pipe(
      Effect.map((rows) => rows[0]?.version ?? 0),
      // No migrations table yet: a new database.
      Effect.catchIf(
        (error: SqlError) => /no such table|relation "?\w+"? does not exist/i.test(sqlErrorText(error)),
        () => Effect.succeed(0)
      )
    )
    if (known > LATEST_SCHEMA_VERSION) {
      return yield* new DatabaseError({
        reason: "newer-schema",
        message:
          `The database ${databasePath} has schema version ${known}, but this Spindle knows only up to ` +
          `${LATEST_SCHEMA_VERSION}. It was written by a newer Spindle: upgrade Spindle, or use another ` +
          (store.kind === "sqlite"
            ? "--home. The file was left untouched."
            : "--store. The database was left untouched.")
      })
    }
    const applied = yield* run({ loader: Migrator.fromRecord(migrations), table: MIGRATIONS_TABLE }).pipe(
      Effect.mapError(
        (error) =>
          new DatabaseError({
            reason: "migration-failed",
            message: `Migrating ${databasePath} failed: ${error.message}. The transaction was rolled back.`
          })
      )
    )
    return applied.map(([id]) => id)
  }).pipe(Effect.catchTag("SqlError", (error) => Effect.fail(unreadable(store, error))))

/** A failure to open the store, phrased for the person who has to fix it. */
export const unreadable = (store: Store, error: SqlError) =>
  new DatabaseError({
    reason: "unreadable",
    message:
      store.kind === "sqlite"
        ? `Cannot open the database ${store.filename}: ${sqlErrorText(error)}. ` +
          "Spindle does not overwrite it: move the file aside (or restore a backup), or start with another --home."
        : `Cannot use the Postgres store ${describeStore(store)}: ${sqlErrorText(error)}. ` +
          "Check that the server runs, the URL's user may connect and the database exists (createdb), then start again."
  })
