// What happened to each command, keyed by commandId, so a repeated command answers the recorded
// outcome instead of applying twice. It does not decide whether two payloads are "the same":
// the caller passes the hash it compares.
import { SpindleError } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"

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

interface ReceiptRow {
  readonly command_type: string
  readonly payload_hash: string
  readonly status: "accepted" | "rejected"
  readonly result_sequence: number | null
  readonly error: string | null
}

const decodeError = Schema.decodeUnknownSync(SpindleError)
const encodeError = Schema.encodeSync(SpindleError)

export class CommandReceipts extends Context.Service<
  CommandReceipts,
  {
    readonly get: (commandId: string) => Effect.Effect<Receipt | undefined, SqlError>
    /** Records a receipt; call inside the transaction that applied (or refused) the command. */
    readonly record: (
      commandId: string,
      receipt: Receipt,
      recordedAt: string
    ) => Effect.Effect<void, SqlError>
  }
>()("spindle/persistence/CommandReceipts") {
  static readonly layer = Layer.effect(
    CommandReceipts,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient

      const get = Effect.fn("CommandReceipts.get")(function* (commandId: string) {
        const rows = yield* sql<ReceiptRow>`
          SELECT command_type, payload_hash, status, result_sequence, error
          FROM command_receipts WHERE command_id = ${commandId}`
        const row = rows[0]
        if (row === undefined) return undefined
        const base = { commandType: row.command_type, payloadHash: row.payload_hash }
        return row.status === "accepted"
          ? ({ status: "accepted", ...base, sequence: row.result_sequence ?? 0 } as const)
          : ({ status: "rejected", ...base, error: decodeError(JSON.parse(row.error ?? "{}")) } as const)
      })

      const record = Effect.fn("CommandReceipts.record")(function* (
        commandId: string,
        receipt: Receipt,
        recordedAt: string
      ) {
        const sequence = receipt.status === "accepted" ? receipt.sequence : null
        const error = receipt.status === "rejected" ? JSON.stringify(encodeError(receipt.error)) : null
        yield* sql`
          INSERT INTO command_receipts (command_id, command_type, payload_hash, status, result_sequence, error, recorded_at)
          VALUES (${commandId}, ${receipt.commandType}, ${receipt.payloadHash}, ${receipt.status}, ${sequence}, ${error}, ${recordedAt})`
      })

      return { get, record }
    })
  )
}
