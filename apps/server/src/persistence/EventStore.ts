// The append-only event log. Appends happen inside the engine's transaction; reads page through
// the log by sequence. It does not decide, project or publish anything.
import { type EventDraft, SpindleEvent } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import { aggregateOf } from "../domain/readModel.ts"

type Envelope = Omit<SpindleEvent, "type" | "payload" | "sequence">

interface EventRow {
  readonly sequence: number
  readonly event_id: string
  readonly type: string
  readonly command_id: string
  readonly actor: string
  readonly occurred_at: string
  readonly payload: string
}

const decodeEvent = Schema.decodeUnknownEffect(SpindleEvent)

export class EventStore extends Context.Service<
  EventStore,
  {
    /** Appends the drafts in order; call inside a transaction. Returns the stored events. */
    readonly append: (
      drafts: ReadonlyArray<EventDraft & Envelope>
    ) => Effect.Effect<ReadonlyArray<SpindleEvent>, SqlError>
    /** Up to `limit` events with a sequence greater than `after`, in order. */
    readonly readAfter: (after: number, limit: number) => Effect.Effect<ReadonlyArray<SpindleEvent>, SqlError>
    readonly latestSequence: Effect.Effect<number, SqlError>
  }
>()("spindle/persistence/EventStore") {
  static readonly layer = Layer.effect(
    EventStore,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient

      const append = Effect.fn("EventStore.append")(function* (drafts: ReadonlyArray<EventDraft & Envelope>) {
        const stored: Array<SpindleEvent> = []
        for (const draft of drafts) {
          const aggregate = aggregateOf(draft)
          const rows = yield* sql<{ readonly sequence: number }>`
            INSERT INTO events (event_id, type, aggregate_kind, aggregate_id, command_id, actor, occurred_at, payload)
            VALUES (${draft.eventId}, ${draft.type}, ${aggregate.kind}, ${aggregate.id}, ${draft.commandId},
                    ${JSON.stringify(draft.actor)}, ${draft.occurredAt}, ${JSON.stringify(draft.payload)})
            RETURNING sequence`
          stored.push({ ...draft, sequence: rows[0]!.sequence } as SpindleEvent)
        }
        return stored
      })

      const readAfter = Effect.fn("EventStore.readAfter")(function* (after: number, limit: number) {
        const rows = yield* sql<EventRow>`
          SELECT sequence, event_id, type, command_id, actor, occurred_at, payload
          FROM events WHERE sequence > ${after} ORDER BY sequence LIMIT ${limit}`
        return yield* Effect.forEach(rows, (row) =>
          decodeEvent({
            sequence: row.sequence,
            eventId: row.event_id,
            type: row.type,
            commandId: row.command_id,
            actor: JSON.parse(row.actor),
            occurredAt: row.occurred_at,
            payload: JSON.parse(row.payload)
          }).pipe(
            Effect.catch((issue) =>
              Effect.die(new Error(`event ${row.sequence} in the log is malformed: ${issue}`))
            )
          )
        )
      })

      const latestSequence = sql<{
        readonly sequence: number | null
      }>`SELECT MAX(sequence) AS sequence FROM events`.pipe(Effect.map((rows) => rows[0]?.sequence ?? 0))

      return { append, readAfter, latestSequence }
    })
  )
}
