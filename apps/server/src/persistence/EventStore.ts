// The append-only event log. Appends happen inside the engine's transaction; reads page through
// the log by sequence, each row decoded as a `SpindleEvent` (a row that does not is a
// `CorruptRow` defect: the log is the source of truth, there is nothing to rebuild it from).
// It does not decide, project or publish anything.
import { SpindleEvent } from "@spindle/contracts"
import { aggregateOf } from "@spindle/read-model"
import * as Arr from "effect/Array"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import * as SqlSchema from "effect/sql/SqlSchema"
import { CorruptRow, dieOnCorruptRow } from "./corruptRow.ts"

/** A JSON column taken as it is; what it must contain is checked by the schema it feeds. */
const Json = Schema.fromJsonString(Schema.Unknown)

const COLUMNS = { eventId: "event_id", commandId: "command_id", occurredAt: "occurred_at" } as const

/**
 * What is written: the draft's JSON as it is. Its validity is the decider's business; encoding
 * it through `SpindleEvent` here would turn a bad draft into a failed write, a new behaviour.
 */
type NewEventRow = {
  readonly event_id: string
  readonly type: string
  readonly aggregate_kind: string
  readonly aggregate_id: string
  readonly command_id: string
  readonly actor: string
  readonly occurred_at: string
  readonly payload: string
}

/** What is read: an `events` row, its JSON columns parsed, then checked as a `SpindleEvent`. */
const StoredEvent = Schema.Struct({
  sequence: Schema.Int,
  eventId: Schema.String,
  type: Schema.String,
  commandId: Schema.String,
  actor: Json,
  occurredAt: Schema.String,
  payload: Json
}).pipe(Schema.encodeKeys(COLUMNS), Schema.decodeTo(SpindleEvent))

const Latest = Schema.Struct({ sequence: Schema.NullOr(Schema.Int) })

/** Events per INSERT: eight parameters each, well under SQLite's limit on a statement's parameters. */
export const APPEND_CHUNK = 200

/** An event as the `events` row that records it (its `sequence` is the store's to number). */
export const eventRow = (event: SpindleEvent): NewEventRow => {
  const aggregate = aggregateOf(event)
  return {
    event_id: event.eventId,
    type: event.type,
    aggregate_kind: aggregate.kind,
    aggregate_id: aggregate.id,
    command_id: event.commandId,
    actor: JSON.stringify(event.actor),
    occurred_at: event.occurredAt,
    payload: JSON.stringify(event.payload)
  }
}

/** What an INSERT ... RETURNING sequence, event_id answers for each row. */
interface NumberedRow {
  readonly sequence: unknown
  readonly event_id: unknown
}

/**
 * The defect when the store numbered the inserted `chunk` otherwise than the writer expects (the
 * log's next sequences): someone else wrote the log. RETURNING answers each row's key in no
 * promised order.
 */
export const misnumbered = (
  chunk: ReadonlyArray<SpindleEvent>,
  numbered: ReadonlyArray<Partial<NumberedRow>>
): CorruptRow | undefined => {
  const expected = new Map(chunk.map((event) => [event.eventId as string, event.sequence]))
  const wrong = numbered.find(
    (row) => typeof row.event_id !== "string" || expected.get(row.event_id) !== row.sequence
  )
  if (wrong === undefined && numbered.length === chunk.length) return undefined
  return new CorruptRow({
    table: "events",
    row: `new event ${String(wrong?.event_id ?? chunk[0]?.eventId)}`,
    message: `The store numbered the new events otherwise than the log's next sequences (${chunk[0]?.sequence} to ${chunk.at(-1)?.sequence}): answered ${JSON.stringify(numbered)}.`
  })
}

export class EventStore extends Context.Service<
  EventStore,
  {
    /**
     * Appends the events in order, in as few statements as it can; call inside the transaction
     * that holds the log (the engine's writer). Each must carry the sequence the store numbers it
     * with (the log's next ones): one that comes back numbered otherwise is a damaged or shared
     * store written behind the writer's back, a `CorruptRow` defect that rolls the batch back.
     */
    readonly append: (events: ReadonlyArray<SpindleEvent>) => Effect.Effect<void, SqlError>
    /** Up to `limit` events with a sequence greater than `after`, in order. */
    readonly readAfter: (after: number, limit: number) => Effect.Effect<ReadonlyArray<SpindleEvent>, SqlError>
    readonly latestSequence: Effect.Effect<number, SqlError>
    /** The last event of a type recorded for one thread (by the aggregate index). */
    readonly lastOfThread: (
      threadId: string,
      type: SpindleEvent["type"]
    ) => Effect.Effect<SpindleEvent | undefined, SqlError>
    /** The last `limit` events of one thread up to `before` (exclusive), oldest first (by the aggregate index). */
    readonly recentOfThread: (
      threadId: string,
      limit: number,
      before?: number
    ) => Effect.Effect<ReadonlyArray<SpindleEvent>, SqlError>
  }
>()("spindle/persistence/EventStore") {
  static readonly layer = Layer.effect(
    EventStore,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient

      const findAfter = SqlSchema.findAll({
        Request: Schema.Struct({ after: Schema.Int, limit: Schema.Int }),
        Result: StoredEvent,
        execute: ({ after, limit }) => sql`
          SELECT sequence, event_id, type, command_id, actor, occurred_at, payload
          FROM events WHERE sequence > ${after} ORDER BY sequence LIMIT ${limit}`
      })
      const findLatest = SqlSchema.findOneOption({
        Request: Schema.Void,
        Result: Latest,
        execute: () => sql`SELECT MAX(sequence) AS sequence FROM events`
      })

      const findLastOfThread = SqlSchema.findOneOption({
        Request: Schema.Struct({ threadId: Schema.String, type: Schema.String }),
        Result: StoredEvent,
        execute: ({ threadId, type }) => sql`
          SELECT sequence, event_id, type, command_id, actor, occurred_at, payload
          FROM events WHERE aggregate_kind = 'thread' AND aggregate_id = ${threadId} AND type = ${type}
          ORDER BY sequence DESC LIMIT 1`
      })

      const lastOfThread = (threadId: string, type: SpindleEvent["type"]) =>
        findLastOfThread({ threadId, type }).pipe(
          dieOnCorruptRow("events", `the last ${type} of thread ${threadId}`),
          Effect.map(Option.getOrUndefined)
        )

      // Written as it is, without a schema: the event's JSON is the decider's (see NewEventRow
      // above), and this is the hottest statement of all. One statement per APPEND_CHUNK events.
      // (The embedded store's engine writes through persistence/sqliteBatch.ts instead.)
      const append = Effect.fn("EventStore.append")(function* (events: ReadonlyArray<SpindleEvent>) {
        for (const chunk of Arr.chunksOf(events, APPEND_CHUNK)) {
          const rows = Arr.map(chunk, (event): Record<string, unknown> => eventRow(event))
          const numbered =
            yield* sql<NumberedRow>`INSERT INTO events ${sql.insert(rows)} RETURNING sequence, event_id`
          const wrong = misnumbered(chunk, numbered)
          if (wrong !== undefined) return yield* Effect.die(wrong)
        }
      })

      const findRecentOfThread = SqlSchema.findAll({
        Request: Schema.Struct({ threadId: Schema.String, limit: Schema.Int, before: Schema.Int }),
        Result: StoredEvent,
        execute: ({ threadId, limit, before }) => sql`
          SELECT sequence, event_id, type, command_id, actor, occurred_at, payload
          FROM events WHERE aggregate_kind = 'thread' AND aggregate_id = ${threadId} AND sequence < ${before}
          ORDER BY sequence DESC LIMIT ${limit}`
      })

      const recentOfThread = (threadId: string, limit: number, before = Number.MAX_SAFE_INTEGER) =>
        findRecentOfThread({ threadId, limit, before }).pipe(
          dieOnCorruptRow("events", `the last ${limit} events of thread ${threadId}`),
          Effect.map((events) => [...events].reverse())
        )

      const readAfter = Effect.fn("EventStore.readAfter")(function* (after: number, limit: number) {
        return yield* findAfter({ after, limit }).pipe(
          dieOnCorruptRow("events", `the rows after sequence ${after}, [n] counting them from 0`)
        )
      })

      const latestSequence = findLatest(undefined).pipe(
        dieOnCorruptRow("events", "MAX(sequence)"),
        Effect.map((found) => Option.getOrUndefined(found)?.sequence ?? 0)
      )

      return { append, readAfter, latestSequence, lastOfThread, recentOfThread }
    })
  )
}
