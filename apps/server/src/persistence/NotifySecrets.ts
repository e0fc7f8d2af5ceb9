// Each project's notify secret (the key that signs its webhook deliveries), kept beside the event
// log and never in it: the log is shown to every client that subscribes, the secret to none. The
// engine writes it in the transaction that applies the command carrying it, so it is there exactly
// when the project says `secretSet`; the notifier reads it to sign. Nothing here logs a value.
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import * as SqlSchema from "effect/sql/SqlSchema"
import { dieOnCorruptRow } from "./corruptRow.ts"

/** A change to a project's secret: set (or replaced) at `at`, or removed (`secret` null). */
export interface SecretWrite {
  readonly projectId: string
  readonly secret: string | null
  readonly at: string
}

export class NotifySecrets extends Context.Service<
  NotifySecrets,
  {
    /** Applies the changes in order; call inside the transaction that applies their commands. */
    readonly write: (writes: ReadonlyArray<SecretWrite>) => Effect.Effect<void, SqlError>
    readonly get: (projectId: string) => Effect.Effect<string | undefined, SqlError>
  }
>()("spindle/persistence/NotifySecrets") {
  static readonly layer = Layer.effect(
    NotifySecrets,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const findOne = SqlSchema.findOneOption({
        Request: Schema.String,
        Result: Schema.Struct({ secret: Schema.String }),
        execute: (projectId) => sql`SELECT secret FROM notify_secrets WHERE project_id = ${projectId}`
      })
      const set = (
        projectId: string,
        secret: string,
        at: string
      ) => sql`INSERT INTO notify_secrets ${sql.insert({ project_id: projectId, secret, set_at: at })}
          ON CONFLICT (project_id) DO UPDATE SET secret = excluded.secret, set_at = excluded.set_at`
      const remove = (projectId: string) => sql`DELETE FROM notify_secrets WHERE project_id = ${projectId}`
      const get = Effect.fn("NotifySecrets.get")(function* (projectId: string) {
        const row = yield* findOne(projectId).pipe(
          dieOnCorruptRow("notify_secrets", `project_id = ${projectId}`)
        )
        return Option.getOrUndefined(Option.map(row, (r) => r.secret))
      })
      const write = Effect.fn("NotifySecrets.write")(function* (writes: ReadonlyArray<SecretWrite>) {
        for (const w of writes)
          yield* w.secret === null ? remove(w.projectId) : set(w.projectId, w.secret, w.at)
      })
      return { get, write }
    })
  )
}
