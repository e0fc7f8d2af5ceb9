// Following the event log from a sequence on, for a service that reacts to events (wakes, checks):
// each event handled in order, the position kept, and a failure logged and followed again from
// where it stopped a second later. Runs until interrupted, in the background (Follow.background).
import type { SpindleEvent } from "@spindle/contracts"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { Engine } from "./Engine.ts"
import type { EventFilter } from "./followers.ts"

export const followLog = <E, R>(
  engine: Engine["Service"],
  from: number,
  handle: (event: SpindleEvent) => Effect.Effect<void, E, R>,
  what: string,
  /** Only these events (all when not given); the position is that of the last one handled. */
  wanted?: EventFilter
) => {
  let handled = from
  return Effect.suspend(() =>
    Stream.runForEach(
      engine.ownEvents(handled, { ...(wanted === undefined ? {} : { wanted }), background: true }),
      (event) =>
        Effect.andThen(
          handle(event),
          Effect.sync(() => (handled = event.sequence))
        )
    )
  ).pipe(
    Effect.tapCause((cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.void
        : Effect.logWarning(`${what} stopped; following again`, cause)
    ),
    Effect.retry(Schedule.spaced("1 second"))
  )
}
