// What a schema failure at the SQL boundary becomes: a stored row that no longer decodes (or a
// value that cannot take its row's shape) is a damaged database or a bug, never the caller's
// mistake, so it dies with a `CorruptRow` naming the table and the row instead of handing back
// a wrong value. Stores that can recover on their own (the projections rebuild) catch it first.
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

export class CorruptRow extends Schema.TaggedError<CorruptRow>()("CorruptRow", {
  table: Schema.String,
  /** Which row, in words: "command_id = c-1", "after sequence 40". */
  row: Schema.String,
  message: Schema.String
}) {}

/** The `CorruptRow` for a row of `table` (`row`, in words) that does not match its schema. */
export const corruptRow = (table: string, row: string, error: Schema.SchemaError) =>
  new CorruptRow({
    table,
    row,
    message:
      `A row of ${table} (${row}) does not match its schema: ${error.message.replace(/\s*\n\s*/g, " ")}. ` +
      "The database was changed outside Spindle or is damaged: restore a backup, or move it aside."
  })

/** Turns a `SchemaError` from `SqlSchema` into a `CorruptRow` defect; other failures pass. */
export const dieOnCorruptRow =
  (table: string, row: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, Exclude<E, Schema.SchemaError>, R> =>
    Effect.catchIf(
      effect,
      (error): error is Extract<E, Schema.SchemaError> => Schema.isSchemaError(error),
      (error) => Effect.die(corruptRow(table, row, error))
    ) as Effect.Effect<A, Exclude<E, Schema.SchemaError>, R>
