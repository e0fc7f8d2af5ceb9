// The database as the rest of the server sees it: the store (the SQLite file, or a Postgres
// database) opened, migrated and wrapped in the stores. Opening or migrating failures become a
// `DatabaseError` that says what to do.
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as SqlClient from "effect/sql/SqlClient"
import { type Store, sqliteStore } from "../config/Store.ts"
import { BootstrapJournal } from "./BootstrapJournal.ts"
import { CommandReceipts } from "./CommandReceipts.ts"
import { EventStore } from "./EventStore.ts"
import { LogSignals } from "./LogSignals.ts"
import { type DatabaseError, migrate, unreadable } from "./Migrations.ts"
import { NotifyOutbox } from "./NotifyOutbox.ts"
import { NotifySecrets } from "./NotifySecrets.ts"
import * as PgClient from "./PgClient.ts"
import { ProjectionStore } from "./ProjectionStore.ts"
import * as SqliteClient from "./SqliteClient.ts"
import { WorktreeRemovals } from "./WorktreeRemovals.ts"

/** A SQLite file name stands for the embedded store in that file. */
const asStore = (store: Store | string): Store => (typeof store === "string" ? sqliteStore(store) : store)

const openClient = (store: Store): Layer.Layer<SqlClient.SqlClient | LogSignals, DatabaseError> =>
  store.kind === "sqlite"
    ? Layer.merge(
        SqliteClient.layer({ filename: store.filename }, (error) => unreadable(store, error)),
        LogSignals.single
      )
    : LogSignals.postgres.pipe(
        Layer.provideMerge(PgClient.layer({ url: store.url }, (error) => unreadable(store, error)))
      )

/** SqlClient over the store (a SQLite file name, or a Store), migrated to the latest schema. */
export const layerClient = (location: Store | string) => {
  const store = asStore(location)
  return Layer.effectDiscard(
    Effect.gen(function* () {
      const applied = yield* migrate(store)
      if (applied.length > 0)
        yield* Effect.logInfo("Database migrated").pipe(Effect.annotateLogs({ applied }))
    })
  ).pipe(Layer.provideMerge(openClient(store)))
}

/** The event store, command receipts, projections and the other stores over one migrated store. */
export const layer = (
  store: Store | string
): Layer.Layer<
  | EventStore
  | CommandReceipts
  | ProjectionStore
  | BootstrapJournal
  | WorktreeRemovals
  | NotifySecrets
  | NotifyOutbox
  | Layer.Success<ReturnType<typeof layerClient>>,
  DatabaseError
> =>
  Layer.mergeAll(
    EventStore.layer,
    CommandReceipts.layer,
    ProjectionStore.layer,
    BootstrapJournal.layer,
    WorktreeRemovals.layer,
    NotifySecrets.layer,
    NotifyOutbox.layer
  ).pipe(Layer.provideMerge(layerClient(store)))
