// Whether other writers share the event log, and a signal each time one of them appended to it.
// The embedded SQLite store has one writer (the home's lock keeps it so): nothing to hear. On
// Postgres several hosts append to one log; each append notifies `spindle_events` when it commits
// (migrations/0001), and a host hears it over a connection of its own that LISTENs, so its engine
// reads what the others wrote at once, not on its next write.
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"

/** The channel the log's insert trigger notifies (the payload is empty: it only says "look"). */
export const EVENTS_CHANNEL = "spindle_events"

export class LogSignals extends Context.Service<
  LogSignals,
  {
    /** Other writers may append to the log between this server's own appends. */
    readonly shared: boolean
    /** Emits after another writer's append committed (and now and then, in case one was missed). */
    readonly appended: Stream.Stream<void>
  }
>()("spindle/persistence/LogSignals") {
  /** One writer: the engine's own appends are all there is. */
  static readonly single = Layer.succeed(LogSignals, { shared: false, appended: Stream.never })

  /** Postgres: LISTEN on a reserved connection; a lost connection listens again after a second. */
  static readonly postgres = Layer.effect(
    LogSignals,
    Effect.gen(function* () {
      const pg = yield* PgClient.PgClient
      const heard = Stream.unwrap(Effect.map(pg.listen(EVENTS_CHANNEL), Stream.fromQueue)).pipe(
        Stream.map((): void => undefined),
        Stream.retry(Schedule.spaced("1 second")),
        Stream.orDie
      )
      // A notification sent while the connection was being replaced is not heard: a slow tick
      // catches up with those.
      const tick = Stream.tick("2 seconds")
      return { shared: true, appended: Stream.merge(heard, tick) }
    })
  )
}
