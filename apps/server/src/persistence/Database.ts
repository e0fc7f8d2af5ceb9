// The database as the rest of the server sees it: the SQLite file opened, migrated and wrapped
// in the stores. Opening or migrating failures become a `DatabaseError` that says what to do.
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { BootstrapJournal } from "./BootstrapJournal.ts"
import { CommandReceipts } from "./CommandReceipts.ts"
import { EventStore } from "./EventStore.ts"
import { type DatabaseError, migrate, unreadable } from "./Migrations.ts"
import { NotifyOutbox } from "./NotifyOutbox.ts"
import { NotifySecrets } from "./NotifySecrets.ts"
import { ProjectionStore } from "./ProjectionStore.ts"
import * as SqliteClient from "./SqliteClient.ts"
import { WorktreeRemovals } from "./WorktreeRemovals.ts"

/** SqlClient over `filename`, migrated to the latest schema. */
export const layerClient = (filename: string) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const applied = yield* migrate(filename)
      if (applied.length > 0)
        yield* Effect.logInfo("Database migrated").pipe(Effect.annotateLogs({ applied }))
    })
  ).pipe(Layer.provideMerge(SqliteClient.layer({ filename }, (error) => unreadable(filename, error))))

/** The event store, command receipts, projections and the other stores over one migrated database file. */
export const layer = (
  filename: string
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
  ).pipe(Layer.provideMerge(layerClient(filename)))
