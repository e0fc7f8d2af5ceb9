// The notifier's durable state: the outbox of deliveries not yet settled (each with the exact body
// it sends, so a retry or a restart sends the same bytes) and how far it has read the event log.
// A delivery goes in together with the cursor moving past its event, so after a restart an event
// is either in the outbox, settled, or read again; never sent twice for one event. What a delivery
// means and when it is retried is the notifier's (notify/), not this store's.
import { NotifyEvent } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import * as SqlSchema from "effect/sql/SqlSchema"
import { dieOnCorruptRow } from "./corruptRow.ts"

const CURSOR = "notify"

export interface OutboxEntry {
  /** The sequence of the event it tells of: one delivery per event at most. */
  readonly sequence: number
  readonly deliveryId: string
  readonly projectId: string
  readonly threadId: string
  readonly event: NotifyEvent
  /** The JSON body, exactly as it is sent and signed. */
  readonly body: string
  /** POSTs made so far. */
  readonly attempts: number
  readonly lastStatus: number | null
  readonly lastError: string | null
}

const Row: Schema.Codec<OutboxEntry, Record<string, unknown>> = Schema.Struct({
  sequence: Schema.Int,
  deliveryId: Schema.String,
  projectId: Schema.String,
  threadId: Schema.String,
  event: NotifyEvent,
  body: Schema.String,
  attempts: Schema.Int,
  lastStatus: Schema.NullOr(Schema.Int),
  lastError: Schema.NullOr(Schema.String)
}).pipe(
  Schema.encodeKeys({
    sequence: "event_sequence",
    deliveryId: "delivery_id",
    projectId: "project_id",
    threadId: "thread_id",
    lastStatus: "last_status",
    lastError: "last_error"
  })
)

const Write = Schema.Struct({ entry: Row, at: Schema.String })

export class NotifyOutbox extends Context.Service<
  NotifyOutbox,
  {
    /** The last event the notifier has read; undefined before its first start. */
    readonly cursor: Effect.Effect<number | undefined, SqlError>
    /** Moves the cursor to `sequence` (never back). */
    readonly saveCursor: (sequence: number) => Effect.Effect<void, SqlError>
    /**
     * Puts a delivery in and moves the cursor past its event, in one transaction; false when its
     * event already has one.
     */
    readonly add: (entry: OutboxEntry, at: string) => Effect.Effect<boolean, SqlError>
    /** Deliveries not settled yet, oldest event first. */
    readonly pending: Effect.Effect<ReadonlyArray<OutboxEntry>, SqlError>
    /** One more POST made, and what came of it. */
    readonly recordAttempt: (
      deliveryId: string,
      attempts: number,
      status: number | null,
      error: string | null,
      at: string
    ) => Effect.Effect<void, SqlError>
    /** The delivery is settled (its outcome is on the project): forgotten. */
    readonly finish: (deliveryId: string) => Effect.Effect<void, SqlError>
  }
>()("spindle/persistence/NotifyOutbox") {
  static readonly layer = Layer.effect(
    NotifyOutbox,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const table = "notify_outbox"

      const findCursor = SqlSchema.findOneOption({
        Request: Schema.Void,
        Result: Schema.Struct({ sequence: Schema.Int }),
        execute: () => sql`SELECT sequence FROM notify_cursor WHERE name = ${CURSOR}`
      })
      const findPending = SqlSchema.findAll({
        Request: Schema.Void,
        Result: Row,
        execute: () => sql`SELECT * FROM notify_outbox ORDER BY event_sequence`
      })
      const insert = SqlSchema.findAll({
        Request: Write,
        Result: Schema.Struct({ delivery_id: Schema.String }),
        execute: ({ entry, at }) =>
          sql`INSERT INTO notify_outbox ${sql.insert({ ...entry, created_at: at, updated_at: at })} ON CONFLICT DO NOTHING RETURNING delivery_id`
      })

      const saveCursor = Effect.fn("NotifyOutbox.saveCursor")(function* (sequence: number) {
        yield* sql`
          INSERT INTO notify_cursor (name, sequence) VALUES (${CURSOR}, ${sequence})
          ON CONFLICT (name) DO UPDATE SET sequence = CASE
            WHEN excluded.sequence > notify_cursor.sequence THEN excluded.sequence ELSE notify_cursor.sequence END`
      })

      const cursor = findCursor(undefined).pipe(
        Effect.map((row) => Option.getOrUndefined(Option.map(row, (r) => r.sequence))),
        dieOnCorruptRow("notify_cursor", CURSOR),
        Effect.withSpan("NotifyOutbox.cursor")
      )

      const add = Effect.fn("NotifyOutbox.add")(function* (entry: OutboxEntry, at: string) {
        return yield* sql.withTransaction(
          Effect.gen(function* () {
            const inserted = yield* insert({ entry, at }).pipe(
              dieOnCorruptRow(table, `new event_sequence = ${entry.sequence}`)
            )
            yield* saveCursor(entry.sequence)
            return inserted.length > 0
          })
        )
      })

      const pending = findPending(undefined).pipe(
        dieOnCorruptRow(table, "pending"),
        Effect.withSpan("NotifyOutbox.pending")
      )

      const recordAttempt = Effect.fn("NotifyOutbox.recordAttempt")(function* (
        deliveryId: string,
        attempts: number,
        status: number | null,
        error: string | null,
        at: string
      ) {
        yield* sql`UPDATE notify_outbox SET ${sql.update({
          attempts,
          last_status: status,
          last_error: error,
          updated_at: at
        })} WHERE delivery_id = ${deliveryId}`
      })

      const finish = Effect.fn("NotifyOutbox.finish")(function* (deliveryId: string) {
        yield* sql`DELETE FROM notify_outbox WHERE delivery_id = ${deliveryId}`
      })

      return { cursor, saveCursor, add, pending, recordAttempt, finish }
    })
  )
}
