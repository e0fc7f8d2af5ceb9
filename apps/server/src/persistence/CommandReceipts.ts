// What happened to each command, keyed by commandId, so a repeated command answers the recorded
// outcome instead of applying twice. It does not decide whether two payloads are "the same":
// the caller passes the hash it compares. Receipts go in and out through one row schema (the
// refusal as JSON); a row that does not decode dies as a `CorruptRow`.
import { SpindleError } from "@spindle/contracts"
import * as Arr from "effect/Array"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import * as SqlSchema from "effect/sql/SqlSchema"
import { corruptRow, dieOnCorruptRow } from "./corruptRow.ts"

export type Receipt =
  | {
      readonly status: "accepted"
      readonly commandType: string
      readonly payloadHash: string
      readonly sequence: number
    }
  | {
      readonly status: "rejected"
      readonly commandType: string
      readonly payloadHash: string
      readonly error: SpindleError
    }

const COLUMNS = { commandType: "command_type", payloadHash: "payload_hash" } as const

/** A `command_receipts` row as a `Receipt`: `status` says which of the two columns is set. */
const Row: Schema.Codec<Receipt, Record<string, unknown>> = Schema.Union([
  Schema.Struct({
    status: Schema.Literal("accepted"),
    commandType: Schema.String,
    payloadHash: Schema.String,
    sequence: Schema.Int
  }).pipe(Schema.encodeKeys({ ...COLUMNS, sequence: "result_sequence" })),
  Schema.Struct({
    status: Schema.Literal("rejected"),
    commandType: Schema.String,
    payloadHash: Schema.String,
    error: Schema.fromJsonString(SpindleError)
  }).pipe(Schema.encodeKeys(COLUMNS))
])

const Write = Schema.Struct({ commandId: Schema.String, receipt: Row, recordedAt: Schema.String })
export type ReceiptWrite = typeof Write.Type

/** A write as its row: every column named, so the rows of one INSERT have the same shape. */
const rowOf = ({ commandId, receipt, recordedAt }: typeof Write.Encoded): Record<string, unknown> => ({
  command_id: commandId,
  result_sequence: null,
  error: null,
  ...receipt,
  recorded_at: recordedAt
})

const encodeWrites = Schema.encodeSync(Schema.Array(Write))

/**
 * Receipts as their `command_receipts` rows, for both stores' writes. A write that cannot take its
 * row's shape throws a `CorruptRow` (a defect wherever it is thrown).
 */
export const receiptRows = (writes: ReadonlyArray<ReceiptWrite>): Array<Record<string, unknown>> => {
  try {
    return encodeWrites(writes).map(rowOf)
  } catch (error) {
    if (!Schema.isSchemaError(error)) throw error
    throw corruptRow(
      "command_receipts",
      `new command_id in (${writes.map((w) => w.commandId).join(", ")})`,
      error
    )
  }
}

const decodeRow = Schema.decodeUnknownSync(Row)

/** A `command_receipts` row (its columns but `command_id`) as a `Receipt`; throws a `SchemaError` if it does not decode. */
export const receiptOf = (row: Record<string, unknown>): Receipt => decodeRow(row)

export class CommandReceipts extends Context.Service<
  CommandReceipts,
  {
    readonly get: (commandId: string) => Effect.Effect<Receipt | undefined, SqlError>
    /** The receipts of those of `commandIds` that have one, in one read. */
    readonly getMany: (
      commandIds: ReadonlyArray<string>
    ) => Effect.Effect<ReadonlyMap<string, Receipt>, SqlError>
    /** Records receipts in one write; call inside the transaction that applied (or refused) them. */
    readonly recordMany: (writes: ReadonlyArray<ReceiptWrite>) => Effect.Effect<void, SqlError>
  }
>()("spindle/persistence/CommandReceipts") {
  static readonly layer = Layer.effect(
    CommandReceipts,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient

      const findMany = SqlSchema.findAll({
        Request: Schema.Array(Schema.String),
        Result: Schema.Struct({ command_id: Schema.String, receipt: Row }),
        execute: (commandIds) =>
          sql<Record<string, unknown>>`
            SELECT command_id, command_type, payload_hash, status, result_sequence, error
            FROM command_receipts WHERE ${sql.in("command_id", commandIds)}`.pipe(
            Effect.map((rows) => rows.map(({ command_id, ...receipt }) => ({ command_id, receipt })))
          )
      })

      /** The receipts found, by commandId; a row that does not decode dies naming `rows`. */
      const read = (commandIds: ReadonlyArray<string>, rows: string) =>
        findMany(commandIds).pipe(
          dieOnCorruptRow("command_receipts", rows),
          Effect.map((found) => new Map(found.map((row) => [row.command_id, row.receipt] as const)))
        )

      const get = Effect.fn("CommandReceipts.get")(function* (commandId: string) {
        return (yield* read([commandId], `command_id = ${commandId}`)).get(commandId)
      })

      const getMany = Effect.fn("CommandReceipts.getMany")(function* (commandIds: ReadonlyArray<string>) {
        if (commandIds.length === 0) return new Map<string, Receipt>()
        return yield* read(commandIds, `command_id in (${commandIds.join(", ")})`)
      })

      const recordMany = Effect.fn("CommandReceipts.recordMany")(function* (
        writes: ReadonlyArray<ReceiptWrite>
      ) {
        const rows = receiptRows(writes)
        if (Arr.isReadonlyArrayNonEmpty(rows)) yield* sql`INSERT INTO command_receipts ${sql.insert(rows)}`
      })

      return { get, getMany, recordMany }
    })
  )
}
