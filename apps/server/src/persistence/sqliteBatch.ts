// The engine's batch on the embedded store, in plain node:sqlite statements run in one synchronous
// transaction (SqliteDirect): the receipts of the batch's commands read, then, once the batch is
// decided, everything it writes (events, receipts, notify secrets, projection rows). The same rows as the
// stores write through effect/sql on Postgres (each store's row builder serves both); what it saves
// is effect/sql's per-statement and per-transaction work, most of a command's time on SQLite.
import type { SQLInputValue } from "node:sqlite"
import type { SpindleEvent } from "@spindle/contracts"
import type { AggregateRef, ReadModel } from "@spindle/read-model"
import * as Arr from "effect/Array"
import * as Schema from "effect/Schema"
import { type Receipt, type ReceiptWrite, receiptOf, receiptRows } from "./CommandReceipts.ts"
import { corruptRow } from "./corruptRow.ts"
import { APPEND_CHUNK, eventRow, misnumbered } from "./EventStore.ts"
import type { SecretWrite } from "./NotifySecrets.ts"
import { PROJECTION, projectionRows, SAVE_CHUNK } from "./ProjectionStore.ts"
import type { SqliteSession } from "./SqliteDirect.ts"

/** What one batch of the engine writes. */
export interface LogBatch {
  readonly events: ReadonlyArray<SpindleEvent>
  readonly receipts: ReadonlyArray<ReceiptWrite>
  readonly secrets: ReadonlyArray<SecretWrite>
  /** The model after the batch, and the aggregates whose projection rows it changed (by kind:id). */
  readonly model: ReadModel
  readonly changed: ReadonlyMap<string, AggregateRef>
}

const placeholders = (count: number) => `(${Array.from({ length: count }, () => "?").join(", ")})`

/** The text of each INSERT shape met so far (a table, its columns, a number of rows): made once. */
const insertTexts = new Map<string, string>()

/** `INSERT INTO table (columns) VALUES (?, ...), ...` for rows of one shape, and its parameters. */
const insert = (
  table: string,
  rows: ReadonlyArray<Record<string, unknown>>
): [sql: string, params: Array<SQLInputValue>] => {
  const columns = Object.keys(rows[0] ?? {})
  const params: Array<SQLInputValue> = []
  for (const row of rows) for (const column of columns) params.push(row[column] as SQLInputValue)
  const key = `${table}(${columns.join(",")})x${rows.length}`
  let text = insertTexts.get(key)
  if (text === undefined) {
    const values = Array.from({ length: rows.length }, () => placeholders(columns.length)).join(", ")
    text = `INSERT INTO ${table} (${columns.join(", ")}) VALUES ${values}`
    insertTexts.set(key, text)
  }
  return [text, params]
}

/** The receipts of those of `commandIds` that have one; a row that does not decode is a `CorruptRow` defect. */
export const readReceipts = (
  session: SqliteSession,
  commandIds: ReadonlyArray<string>
): Map<string, Receipt> => {
  const found = new Map<string, Receipt>()
  if (commandIds.length === 0) return found
  const rows = session.all(
    `SELECT command_id, command_type, payload_hash, status, result_sequence, error
     FROM command_receipts WHERE command_id IN ${placeholders(commandIds.length)}`,
    commandIds
  )
  for (const { command_id, ...row } of rows) {
    try {
      found.set(String(command_id), receiptOf(row))
    } catch (error) {
      if (Schema.isSchemaError(error))
        throw corruptRow("command_receipts", `command_id = ${String(command_id)}`, error)
      throw error
    }
  }
  return found
}

/** Writes the batch; call inside `SqliteDirect.transaction`. */
export const writeBatch = (session: SqliteSession, batch: LogBatch): void => {
  for (const chunk of Arr.chunksOf(batch.events, APPEND_CHUNK)) {
    const [sql, params] = insert("events", chunk.map(eventRow))
    const wrong = misnumbered(chunk, session.all(`${sql} RETURNING sequence, event_id`, params))
    if (wrong !== undefined) throw wrong
  }
  if (batch.receipts.length > 0) session.run(...insert("command_receipts", receiptRows(batch.receipts)))
  for (const { projectId, secret, at } of batch.secrets) {
    if (secret === null) session.run("DELETE FROM notify_secrets WHERE project_id = ?", [projectId])
    else
      session.run(
        `INSERT INTO notify_secrets (project_id, secret, set_at) VALUES (?, ?, ?)
         ON CONFLICT (project_id) DO UPDATE SET secret = excluded.secret, set_at = excluded.set_at`,
        [projectId, secret, at]
      )
  }
  if (batch.changed.size === 0) return
  for (const { name, column, rows, gone } of projectionRows(batch.model, batch.changed.values())) {
    for (const chunk of Arr.chunksOf(rows, SAVE_CHUNK)) {
      const [sql, params] = insert(name, chunk)
      session.run(
        `${sql} ON CONFLICT (id) DO UPDATE SET ${column} = excluded.${column}, data = excluded.data, sequence = excluded.sequence`,
        params
      )
    }
    if (gone.length > 0) session.run(`DELETE FROM ${name} WHERE id IN ${placeholders(gone.length)}`, gone)
  }
  session.run(
    `INSERT INTO projection_state (name, last_sequence) VALUES (?, ?)
     ON CONFLICT (name) DO UPDATE SET last_sequence = excluded.last_sequence`,
    [PROJECTION, batch.model.sequence]
  )
}
